"""Insert many rows at once: one statement on PostgreSQL, ``executemany`` elsewhere.

psycopg runs an ``executemany`` as one prepared ``INSERT`` per row in a pipeline, a few dozen
microseconds of Python each. On PostgreSQL (psycopg) :func:`insert_rows` sends instead one
``INSERT ... SELECT FROM unnest(...)`` with a binary array per column: the same text for
every batch (parsed and prepared once), no Python loop per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, Connection, Table, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from hub.store.types import json_serializer


def insert_rows(
    connection: Connection, model: type[DeclarativeBase], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert ``rows`` (dicts with the same keys: column names) into ``model``'s table.

    Values go to the database as they are, apart from JSON columns (serialised): give
    aware datetimes, as the hub's ``UTCDateTime`` columns expect.
    """
    if rows:
        _insert(connection, _table(model, rows), rows, None)


def insert_new_rows(
    connection: Connection,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    key: str,
) -> set[Any]:
    """:func:`insert_rows`, skipping rows whose unique ``key`` is stored already (``ON
    CONFLICT DO NOTHING``, so safe against concurrent writers); the keys that were new."""
    if not rows:
        return set()
    return _insert(connection, _table(model, rows), rows, key)


def _table(model: type[DeclarativeBase], rows: Sequence[dict[str, Any]]) -> Table:
    """``model``'s table, once the rows' keys are checked to be its columns."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    unknown = set(rows[0]) - set(table.c.keys())
    if unknown:  # table.insert() would drop them without a word
        raise ValueError(f"not columns of {table.name}: {', '.join(sorted(unknown))}")
    return table


def _insert(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str | None
) -> set[Any]:
    """Insert ``rows``; with a conflict ``key``, skip stored keys and return the new ones."""
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        if key is None:
            connection.execute(table.insert(), list(rows))
            return set()
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        )
        # executemany with RETURNING: SQLAlchemy batches it ("insertmanyvalues")
        return set(connection.execute(statement, list(rows)).scalars())
    rows = _with_defaults(table, rows)
    names = tuple(rows[0])
    arrays: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in names}
    for name in names:
        if _is_json(table, name):
            arrays[name] = [None if v is None else json_serializer(v) for v in arrays[name]]
    result = connection.exec_driver_sql(_unnest_insert(table, names, dialect, key), arrays)
    return set() if key is None else set(result.scalars())


def _with_defaults(table: Table, rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """``rows`` with the columns' Python-side defaults filled in, as ``table.insert()`` would."""
    missing = [
        column
        for column in table.columns
        if column.name not in rows[0]
        and column.default is not None
        and (column.default.is_scalar or column.default.is_callable)
    ]
    if not missing:
        return rows
    filled = [dict(row) for row in rows]
    for column in missing:
        default: Any = column.default
        for row in filled:  # a callable per row: no two rows share a mutable default
            row[column.name] = default.arg(None) if default.is_callable else default.arg
    return filled


@cache
def _unnest_insert(table: Table, names: tuple[str, ...], dialect: Dialect, key: str | None) -> str:
    """``INSERT INTO table (names) SELECT * FROM unnest(%(name)b::type[], ...)``, with
    ``ON CONFLICT (key) DO NOTHING RETURNING key`` when a ``key`` is given."""
    arrays = ", ".join(
        f"%({name})b::text[]::{_type(table, name, dialect)}[]"
        if _is_json(table, name)
        else f"%({name})b::{_type(table, name, dialect)}[]"
        for name in names
    )
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    conflict = ""
    if key is not None:
        quoted = dialect.identifier_preparer.quote(table.c[key].name)
        conflict = f" ON CONFLICT ({quoted}) DO NOTHING RETURNING {quoted}"
    # names are the table's own columns (checked by _table); values are bound
    return f"INSERT INTO {target} ({columns}) SELECT * FROM unnest({arrays}){conflict}"  # noqa: S608


def _type(table: Table, name: str, dialect: Dialect) -> str:
    return str(table.c[name].type.compile(dialect=dialect))


def _is_json(table: Table, name: str) -> bool:
    column_type = table.c[name].type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return isinstance(column_type, JSON)
