"""Many rows in one insert: one statement on PostgreSQL, executemany on SQLite; same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from hub.store.alert_tables import AlertAuditRow
from hub.store.db import Store
from hub.store.ledger_tables import GridWorkerRow
from hub.store.many import insert_new_rows, insert_rows
from tests.support.grids import raise_alert, seed_grids


def test_rows_land_as_given_with_json_and_aware_times(store: Store) -> None:
    seed_grids(store)
    alert = raise_alert(store, "G-A")
    at = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    entries = [
        {"alert_id": alert.alert_id, "at": at + timedelta(seconds=i), "actor": "hub",
         "action": "repeated", "detail": f"repeat {i}: 第{i}次"}
        for i in range(3)
    ]  # fmt: skip
    workers = [
        {"worker_id": "W-C", "name": "张三", "phone": "", "channels": {"sms": "13800000000"},
         "on_duty": False},
        {"worker_id": "W-D", "name": "李四", "phone": "1", "channels": {}, "on_duty": True},
    ]  # fmt: skip
    with store.transaction() as session:
        insert_rows(session.connection(), AlertAuditRow, entries)
        insert_rows(session.connection(), GridWorkerRow, workers)
        insert_rows(session.connection(), GridWorkerRow, [])
    with store.sessions() as session:
        audit = session.scalars(
            select(AlertAuditRow).where(AlertAuditRow.action == "repeated").order_by("at")
        ).all()
        stored = {w.worker_id: w for w in session.scalars(select(GridWorkerRow))}
    assert [(a.at, a.detail) for a in audit] == [(e["at"], e["detail"]) for e in entries]
    assert stored["W-C"].channels == {"sms": "13800000000"} and stored["W-C"].on_duty is False
    assert stored["W-D"].channels == {} and stored["W-D"].phone == "1"


def test_python_side_defaults_are_filled_per_row(store: Store) -> None:
    with store.transaction() as session:
        insert_rows(
            session.connection(),
            GridWorkerRow,
            [{"worker_id": "W-E", "name": "王五"}, {"worker_id": "W-F", "name": "赵六"}],
        )
    with store.sessions() as session:
        rows = session.scalars(select(GridWorkerRow).order_by(GridWorkerRow.worker_id)).all()
    assert [(r.phone, r.channels, r.on_duty) for r in rows] == [("", {}, True)] * 2


def test_one_statement_text_whatever_the_row_count_on_postgresql(store: Store) -> None:
    statements: list[tuple[str, bool]] = []
    event.listen(
        store.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, _p, _ctx, many: statements.append((statement, many)),
    )
    with store.transaction() as session:
        for count in (1, 3, 7):
            rows = [{"worker_id": f"W-{count}-{i}", "name": "x"} for i in range(count)]
            insert_rows(session.connection(), GridWorkerRow, rows)
    inserts = [s for s in statements if s[0].startswith("INSERT INTO grid_workers")]
    if store.dialect == "postgresql":
        assert len(inserts) == 3 and len(set(inserts)) == 1 and not inserts[0][1]
        assert "unnest(" in inserts[0][0]
    else:  # one row: a plain execute; more: one executemany
        assert [many for _, many in inserts] == [False, True, True]


def test_an_unknown_column_is_refused(store: Store) -> None:
    refused = pytest.raises(ValueError, match="not columns of grid_workers: nope")
    with refused, store.transaction() as session:
        insert_rows(session.connection(), GridWorkerRow, [{"worker_id": "W-G", "nope": 1}])


def test_insert_new_rows_skips_stored_keys_and_names_the_new_ones(store: Store) -> None:
    def worker(worker_id: str, name: str) -> dict[str, str]:
        return {"worker_id": worker_id, "name": name}

    with store.transaction() as session:
        first = insert_new_rows(
            session.connection(), GridWorkerRow, [worker("W-H", "甲")], "worker_id"
        )
    with store.transaction() as session:
        again = insert_new_rows(
            session.connection(),
            GridWorkerRow,
            [worker("W-H", "乙"), worker("W-I", "丙")],
            "worker_id",
        )
        none = insert_new_rows(session.connection(), GridWorkerRow, [], "worker_id")
    with store.sessions() as session:
        names = dict(session.execute(select(GridWorkerRow.worker_id, GridWorkerRow.name)).all())
    assert (first, again, none) == ({"W-H"}, {"W-I"}, set())
    assert names == {"W-H": "甲", "W-I": "丙"}  # the stored row is left as it was
