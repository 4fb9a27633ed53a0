"""Lookups by a list of keys: one SQL text on PostgreSQL whatever the list, IN on SQLite."""

from __future__ import annotations

from psycopg.pq import TransactionStatus
from sqlalchemy import Dialect, create_mock_engine, event, make_url, select, text

from hub.store.db import Store
from hub.store.keyed import keys_in
from hub.store.ledger_tables import GridRow
from tests.support.grids import seed_grids

_GRIDS = select(GridRow.grid_id).where(keys_in(GridRow.grid_id)).order_by(GridRow.grid_id)


def _dialect(url: str) -> Dialect:
    return create_mock_engine(url, executor=print).dialect


def test_compiles_to_any_on_postgresql_and_to_a_plain_in_on_sqlite() -> None:
    pg = str(_GRIDS.compile(dialect=_dialect("postgresql+psycopg://")))
    lite = str(_GRIDS.compile(dialect=_dialect("sqlite://")))
    assert "= ANY (%(keys)s::VARCHAR(64)[])" in pg
    assert "IN (__[POSTCOMPILE_keys])" in lite
    assert "= 1" not in lite  # a bare boolean would hide the IN from SQLite's index planner


def test_finds_the_keys_given_whatever_the_list(store: Store) -> None:
    seed_grids(store)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with store.sessions() as session:
        connection = session.connection()
        found = [
            connection.execute(_GRIDS, {"keys": keys}).scalars().all()
            for keys in (["G-A"], ["G-B", "G-A", "G-X"], [], ["G-X"])
        ]
    assert found == [["G-A"], ["G-A", "G-B"], [], []]
    if store.dialect == "postgresql":  # one text for every list: parsed once, prepared once
        assert len(set(statements)) == 1


def test_another_select_is_named_by_its_parameter(store: Store) -> None:
    seed_grids(store)
    query = select(GridRow.grid_id).where(keys_in(GridRow.leader_worker_id, "leaders"))
    with store.sessions() as session:
        assert session.execute(query, {"leaders": ["W-B"]}).scalars().all() == ["G-B"]


def test_postgresql_sessions_plan_for_the_values_given(pg_url: str) -> None:
    store = Store.open(pg_url)
    try:
        with store.engine.connect() as conn:
            driver = conn.connection.dbapi_connection
            assert driver is not None
            assert driver.info.transaction_status == TransactionStatus.IDLE  # committed
            assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
            schema = conn.execute(text("SHOW search_path")).scalar()
    finally:
        store.close()
    assert f"search_path={schema}" in str(make_url(pg_url).query["options"])  # options kept
