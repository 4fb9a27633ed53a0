"""Foreign keys lifted for a bulk load and checked once afterwards (PostgreSQL).

PostgreSQL checks a foreign key with one query per row written: in a first import of
residents that was two thirds of the server's work. Its manual advises dropping the
constraints for a bulk load and adding them back, which checks the whole table at once
("Populating a Database"). :func:`lifted_foreign_keys` does that around an import; each
constraint comes back ``NOT VALID`` (a moment's lock) and is then validated while reads and
writes carry on. Should the process die in between, :func:`restore_foreign_keys` (run by
``Store.open``) puts back whatever the tables' definitions have and the database lacks.
On SQLite both are no-ops.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, ForeignKeyConstraint, Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import AddConstraint

from hub.store.tables import Base

LOCK_TIMEOUT = "5s"
"""How long lifting waits for the tables' locks before it gives up and lifts nothing."""

log = logging.getLogger(__name__)


@dataclass
class Lifted:
    """What :func:`lifted_foreign_keys` did: the constraints it dropped, and any that could
    not be validated when they came back (rows written meanwhile break them)."""

    names: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def _constraints(tables: Iterable[Table]) -> dict[str, ForeignKeyConstraint]:
    """Name → foreign key of ``tables`` as the code defines them."""
    return {
        str(fk.name): fk
        for table in tables
        for fk in sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
    }


def _stored(connection: Connection, tables: Iterable[Table]) -> dict[str, bool]:
    """Name → validated, of the foreign keys the database has on ``tables``."""
    names = [table.name for table in tables]
    rows = connection.execute(
        text(
            "SELECT conname, convalidated FROM pg_constraint "
            "JOIN pg_class ON pg_class.oid = conrelid WHERE contype = 'f' "
            "AND relnamespace = to_regnamespace(current_schema()) AND relname = ANY(:names)"
        ),
        {"names": names},
    )
    return {str(name): bool(valid) for name, valid in rows}


def _existing_tables(connection: Connection) -> set[str]:
    rows = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    )
    return {str(name) for (name,) in rows}


def _add_not_valid(connection: Connection, fk: ForeignKeyConstraint) -> None:
    ddl = AddConstraint(fk).compile(dialect=connection.dialect)
    connection.exec_driver_sql(f"{ddl} NOT VALID")


def _validate(engine: Engine, fks: Sequence[ForeignKeyConstraint]) -> list[str]:
    """Validate each constraint in its own transaction; the names that fail."""
    invalid = []
    for fk in fks:
        table = fk.table.name
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{fk.name}"')
        except DBAPIError as exc:
            log.error(
                "foreign key %s does not hold for rows written while it was lifted; it is "
                "enforced for new rows but the stored ones break it: %s",
                fk.name,
                str(exc.orig).splitlines()[0],
            )
            invalid.append(str(fk.name))
    return invalid


def restore_foreign_keys(engine: Engine, tables: Iterable[Table] | None = None) -> Lifted:
    """Add back the foreign keys of ``tables`` (default: every table) that the database
    lacks or holds unvalidated; what was restored and what still fails to validate."""
    result = Lifted()
    if engine.dialect.name != "postgresql":
        return result
    with engine.begin() as connection:
        present = _existing_tables(connection)
        chosen = [t for t in tables or Base.metadata.sorted_tables if t.name in present]
        wanted = {
            name: fk
            for name, fk in _constraints(chosen).items()
            if fk.referred_table.name in present
        }
        stored = _stored(connection, chosen)
        missing = [fk for name, fk in wanted.items() if name not in stored]
        for fk in missing:
            _add_not_valid(connection, fk)
    unchecked = [fk for name, fk in wanted.items() if not stored.get(name, False)]
    if missing:
        log.warning("restored foreign keys %s", ", ".join(str(fk.name) for fk in missing))
    result.names = [str(fk.name) for fk in missing]
    result.invalid = _validate(engine, unchecked)
    return result


def _drop(engine: Engine, tables: Sequence[Table]) -> list[ForeignKeyConstraint]:
    """Drop the foreign keys of ``tables`` in one transaction; [] when their locks are busy."""
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            stored = _stored(connection, tables)
            dropped = [fk for name, fk in _constraints(tables).items() if stored.get(name)]
            for fk in dropped:
                connection.exec_driver_sql(
                    f'ALTER TABLE "{fk.table.name}" DROP CONSTRAINT "{fk.name}"'
                )
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        log.info("tables busy: foreign keys are checked row by row (%s)", exc.orig)
        return []
    return dropped


@contextmanager
def lifted_foreign_keys(engine: Engine, tables: Sequence[Table]) -> Iterator[Lifted]:
    """Drop the foreign keys of ``tables`` for the block and restore them after it, even when
    it fails. Nothing is lifted on SQLite, for no tables, or when another session holds the
    tables for longer than :data:`LOCK_TIMEOUT`. The caller must check what the constraints
    would have (the block's rows are checked only at the end)."""
    result = Lifted()
    dropped = _drop(engine, tables) if tables and engine.dialect.name == "postgresql" else []
    result.names = [str(fk.name) for fk in dropped]
    try:
        yield result
    finally:
        if dropped:
            result.invalid = restore_foreign_keys(engine, tables).invalid
