"""Migration 0002 (the ledger) on SQLite and PostgreSQL: tables, no drift, down and up."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hub.store.db import Store
from hub.store.migrate import alembic_config, upgrade
from hub.store.tables import Base

LEDGER_TABLES = {
    "grids",
    "grid_workers",
    "worker_grids",
    "sites",
    "gates",
    "addresses",
    "households",
    "residents",
    "vehicle_plates",
    "groups",
    "group_members",
}


def test_ledger_tables_match_the_orm(store: Store) -> None:
    inspector = inspect(store.engine)
    assert set(inspector.get_table_names()) >= LEDGER_TABLES
    residents = {ix["name"]: ix for ix in inspector.get_indexes("residents")}
    assert residents["ix_residents_holder_ref"]["unique"]
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_0001_drops_the_ledger_and_upgrade_restores_it(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        command.downgrade(alembic_config(store.engine), "0001")
        assert not LEDGER_TABLES & set(inspect(store.engine).get_table_names())
        upgrade(store.engine)
        assert set(inspect(store.engine).get_table_names()) >= LEDGER_TABLES
    finally:
        store.close()
