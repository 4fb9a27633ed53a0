"""Bulk reads and INSERTs by natural key, straight to the driver (types converted by hand).

SQLAlchemy's per-statement compiling and per-row parameter handling cost more than the
database's own work; for 800,000 residents that is the difference between well under and
over a minute. So on SQLite and PostgreSQL, stored rows are looked up with one query per
chunk of keys (``IN (?, ...)``, ``= ANY(%b)``) and new rows go in with ``executemany``
(SQLite) or ``COPY`` (PostgreSQL); other engines take SQLAlchemy's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from datetime import date, datetime
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Connection, Date, DateTime, Dialect, Table, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

Processor = Callable[[Any], Any] | None

QUERY_CHUNK = 5000
"""Keys per lookup query."""

MEMO_LIMIT = 50_000
"""Distinct values a column's type conversion remembers before it starts afresh."""

FAST_DIALECTS = frozenset({"sqlite", "postgresql"})


@lru_cache(maxsize=64)
def _compiled(
    target: Table, dialect: Dialect
) -> tuple[str, tuple[str, ...], tuple[Processor, ...]]:
    statement = insert(target).compile(dialect=dialect)
    names = tuple(statement.positiontup or target.c.keys())  # named styles: COPY columns
    processors = tuple(_memoised(_bind(target.c[name], dialect)) for name in names)
    return statement.string, names, processors


def _bind(column: Column[Any], dialect: Dialect) -> Processor:
    """The driver value of ``column``'s values; dates and times as ISO text for ``COPY``
    (PostgreSQL parses them faster than psycopg formats the objects, to the same values)."""
    process = column.type._cached_bind_processor(dialect)
    if dialect.name != "postgresql" or column.type._type_affinity not in (Date, DateTime):
        return process

    def as_text(value: Any) -> Any:
        value = value if process is None else process(value)
        if isinstance(value, datetime):
            return value.isoformat(sep=" ")
        return value.isoformat() if isinstance(value, date) else value

    return as_text


@lru_cache(maxsize=64)
def _select(
    target: Table, dialect: Dialect, key: str, names: tuple[str, ...]
) -> tuple[str, tuple[Processor, ...]]:
    """``SELECT key, names FROM target WHERE key`` (the caller adds the key test)."""
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in (key, *names))
    table_name = dialect.identifier_preparer.format_table(target)
    processors = tuple(
        _memoised(target.c[name].type._cached_result_processor(dialect, None)) for name in names
    )
    sql = f"SELECT {columns} FROM {table_name} WHERE {quote(key)}"  # noqa: S608 (quoted names)
    return sql, processors


def _memoised(process: Processor) -> Processor:
    """``process`` remembering its results (ledger columns repeat values a lot)."""
    if process is None:
        return None
    known: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            if len(known) >= MEMO_LIMIT:
                known.clear()
            result = known[value] = process(value)
            return result
        except TypeError:  # unhashable (JSON documents)
            return process(value)

    return convert


def _chunks(items: Sequence[Any], size: int = QUERY_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stored_values(
    session: Session, target: Table, key: str, names: Sequence[str], keys: Iterable[Any]
) -> dict[Any, tuple[Any, ...]]:
    """``key`` → the stored ``names`` (as SQLAlchemy reads them) of the ``keys`` in ``target``.

    ``key`` must be a text column (its values are passed to the driver unconverted).
    """
    wanted = sorted(set(keys))
    found: dict[Any, tuple[Any, ...]] = {}
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name not in FAST_DIALECTS:
        columns = [target.c[name] for name in names]
        for chunk in _chunks(wanted):
            query = select(target.c[key], *columns).where(target.c[key].in_(chunk))
            found.update((row[0], tuple(row[1:])) for row in session.execute(query))
        return found
    sql, processors = _select(target, dialect, key, tuple(names))
    convert = [(i, process) for i, process in enumerate(processors) if process]
    for chunk in _chunks(wanted):
        with closing(_driver(connection)) as cursor:
            if dialect.name == "sqlite":
                cursor.execute(f"{sql} IN ({','.join('?' * len(chunk))})", chunk)
            else:
                # %b: the keys as one binary text[] (psycopg dumps it 2 us/key cheaper)
                cursor.execute(f"{sql} = ANY(%b)", (list(chunk),))
            rows = cursor.fetchall()
        for row in rows:
            values = row[1:]
            if convert:
                values = list(values)
                for i, process in convert:
                    if values[i] is not None:
                        values[i] = process(values[i])
            found[row[0]] = tuple(values)
    return found


def _driver(connection: Connection) -> Any:
    """A DB-API cursor on the session's connection (inside its transaction)."""
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]


def insert_many(
    session: Session,
    target: Table,
    rows: Sequence[dict[str, Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """INSERT ``rows`` with ``constants`` added (keys that are not columns are ignored).

    Rows giving every column without a plain default go to the driver directly:
    ``executemany`` on SQLite, ``COPY`` on PostgreSQL.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name in FAST_DIALECTS:
        sql, names, processors = _compiled(target, dialect)
        try:
            params = _driver_params(target, rows, names, processors, constants or {})
        except KeyError:
            pass
        else:
            if dialect.name == "sqlite":
                connection.exec_driver_sql(sql, params)
            else:
                _copy(connection, target, names, params)
            return
    columns = target.c.keys()
    given = [{**row, **(constants or {})} for row in rows]
    session.execute(insert(target), [{k: row[k] for k in columns if k in row} for row in given])


def _copy(connection: Connection, target: Table, names: Sequence[str], params: list[Any]) -> None:
    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    statement = f"COPY {preparer.format_table(target)} ({columns}) FROM STDIN"
    with closing(_driver(connection)) as cursor, cursor.copy(statement) as copy:
        for values in params:
            copy.write_row(values)


def _default(column: Column[Any]) -> Any:
    """The value a missing column gets; KeyError when SQLAlchemy would have to compute it."""
    default = column.default
    if default is None and column.server_default is None and column.nullable:
        return None
    if isinstance(default, ScalarElementColumnDefault):
        return default.arg
    raise KeyError(column.key)


def _driver_params(
    target: Table,
    rows: Sequence[dict[str, Any]],
    names: tuple[str, ...],
    processors: tuple[Processor, ...],
    constants: Mapping[str, Any],
) -> list[tuple[Any, ...]]:
    """Rows as driver tuples, converted column by column; KeyError if a row lacks a column."""
    first = rows[0]
    columns: list[Iterable[Any]] = []
    for name, process in zip(names, processors, strict=True):
        values: Iterable[Any]
        if name in first and name not in constants:
            values = list(map(itemgetter(name), rows))
            if process is not None:
                values = [None if value is None else process(value) for value in values]
        else:
            value = constants[name] if name in constants else _default(target.c[name])
            if process is not None and value is not None:
                value = process(value)
            values = repeat(value, len(rows))
        columns.append(values)
    return list(zip(*columns, strict=True))
