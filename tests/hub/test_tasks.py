"""Daily tasks from the ledger, balanced across on-duty workers; results; the close-out."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select, update
from typer.testing import CliRunner

from hub.api.main import create_app
from hub.auth.roles import Role
from hub.cli import app as hub_cli
from hub.config import HubSettings
from hub.ledger import sample
from hub.store import Store
from hub.store.ledger_tables import GridWorkerRow, HouseholdRow, ResidentRow
from hub.store.task_tables import TaskRow
from hub.tasks.generate import generate_tasks
from models.base import utc_now
from tests.hub.conftest import TEST_SECRET
from tests.support.grids import raise_alert
from tests.support.logins import add_login, bearer

IDENTITY = b"identity-key-for-task-tests-00000000"


@pytest.fixture
def ledger(store: Store) -> tuple[Store, sample.Sample]:
    """40 residents tested an hour ago, then: two overdue, one returnee, one quarantined,
    one household of unknown state; workers: two on duty, the rest off."""
    now = utc_now()
    generated = sample.generate(40, seed=11, now=now)
    sample.load(store, generated, IDENTITY)
    with store.transaction() as session:
        ids = list(
            session.scalars(select(ResidentRow.resident_id).order_by(ResidentRow.resident_id))
        )
        session.execute(
            update(ResidentRow).values(
                last_test_at=now - timedelta(hours=1),
                key_area_returnee=False,
                quarantine_until=None,
                created_at=now - timedelta(days=30),
            )
        )
        session.execute(
            update(ResidentRow)
            .where(ResidentRow.resident_id.in_(ids[:2]))
            .values(last_test_at=now - timedelta(hours=60))
        )
        session.execute(
            update(ResidentRow)
            .where(ResidentRow.resident_id == ids[2])
            .values(key_area_returnee=True)
        )
        session.execute(
            update(ResidentRow)
            .where(ResidentRow.resident_id == ids[3])
            .values(quarantine_until=now.date() + timedelta(days=3))
        )
        vacant = session.scalars(select(HouseholdRow).limit(1)).one()
        vacant.state = "unknown"
        workers = list(session.scalars(select(GridWorkerRow).order_by(GridWorkerRow.worker_id)))
        for k, worker in enumerate(workers):
            worker.on_duty = k < 2
    return store, generated


def test_generation_covers_each_kind_balances_and_is_idempotent(
    ledger: tuple[Store, sample.Sample],
) -> None:
    store, _ = ledger
    today = date.today()
    with store.transaction() as session:
        added = generate_tasks(session, today, utc_now())
    assert added == Counter(
        {"test_overdue": 2, "returnee_verify": 1, "quarantine_check": 1, "unreachable": 1}
    )
    with store.transaction() as session:
        assert generate_tasks(session, today, utc_now()) == Counter()
        tasks = session.scalars(select(TaskRow)).all()
        on_duty = set(session.scalars(select(GridWorkerRow.worker_id).where(GridWorkerRow.on_duty)))
    assert {t.worker_id for t in tasks} <= on_duty
    load = Counter(t.worker_id for t in tasks)
    assert max(load.values()) - min(load.values()) <= 1 + max(
        Counter(t.address_code for t in tasks).values()
    )
    by_household: dict[str | None, set[str | None]] = {}
    for task in tasks:
        by_household.setdefault(task.address_code, set()).add(task.worker_id)
    assert all(len(workers) == 1 for workers in by_household.values())


@pytest.fixture
def client(ledger: tuple[Store, sample.Sample], tmp_path: Path) -> Iterator[TestClient]:
    store, _ = ledger
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    add_login(store, "ops")
    with store.sessions() as session:
        worker = session.scalars(
            select(GridWorkerRow.worker_id)
            .where(GridWorkerRow.on_duty)
            .order_by(GridWorkerRow.worker_id)
        ).first()
    add_login(store, "wang", Role.GRID_WORKER, worker_id=worker)
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


def test_tasks_results_and_the_close_out_over_the_api(
    client: TestClient, ledger: tuple[Store, sample.Sample]
) -> None:
    store, generated = ledger
    ops, wang = bearer(client, "ops"), bearer(client, "wang")
    assert client.post("/api/tasks/generate", headers=wang).status_code == 403
    generated_now = client.post("/api/tasks/generate", headers=ops).json()
    assert sum(generated_now["added"].values()) == 5
    mine = client.get("/api/tasks", params={"mine": True}, headers=wang).json()
    assert mine and all(t["status"] == "pending" for t in mine)
    first = mine[0]
    done = client.post(
        f"/api/tasks/{first['task_id']}/result",
        json={"result": "reached", "note": "在家"},
        headers=wang,
    ).json()
    assert done["status"] == "done" and done["result"] == "reached"
    bad = client.post(
        f"/api/tasks/{first['task_id']}/result", json={"result": "gone"}, headers=wang
    )
    assert bad.status_code == 422
    grid = generated.grids[0]["grid_id"]
    alert = raise_alert(store, grid)
    acked = client.post(f"/api/alerts/{alert.alert_id}/acknowledge", json={}, headers=ops)
    assert acked.status_code == 200
    client.post(f"/api/alerts/{alert.alert_id}/resolve", json={"resolution": "other"}, headers=ops)

    (coverage,) = client.get("/api/coverage", headers=ops).json()
    assert coverage["households_reached"] == 1
    assert coverage["households_reached_pct"] == round(100 / coverage["households"], 1)

    (row,) = client.get("/api/reports/daily", headers=ops).json()
    assert row["grid_id"] == grid and row["tasks"] == 5 and row["tasks_done"] == 1
    assert row["reached"] == 1 and row["away"] == 0
    assert row["alerts_opened"] == 1 and row["alerts_closed"] == 1
    assert row["households"] == row["occupied"] + row["vacant"] + 1  # one of unknown state

    text = client.get("/api/reports/daily", params={"format": "csv"}, headers=ops)
    assert text.headers["content-type"].startswith("text/csv")
    (parsed,) = csv.DictReader(io.StringIO(text.content.decode("utf-8-sig")))
    assert parsed["tasks_done"] == "1" and parsed["grid_id"] == grid
    book = client.get("/api/reports/daily", params={"format": "xlsx"}, headers=ops)
    sheet = load_workbook(io.BytesIO(book.content))["close-out"]
    header, values = list(sheet.iter_rows(values_only=True))
    assert dict(zip(header, values, strict=True))["alerts_closed"] == 1


def test_cli_generates_and_writes_the_report(
    ledger: tuple[Store, sample.Sample], tmp_path: Path
) -> None:
    store, _ = ledger
    url = str(store.engine.url)
    runner = CliRunner()
    made = runner.invoke(hub_cli, ["tasks", "generate", "--database-url", url])
    assert made.exit_code == 0, made.output
    out = tmp_path / "close.xlsx"
    written = runner.invoke(hub_cli, ["tasks", "report", "--out", str(out), "--database-url", url])
    assert written.exit_code == 0, written.output
    assert load_workbook(out)["close-out"].max_row == 2
    wrong = runner.invoke(
        hub_cli, ["tasks", "report", "--out", str(tmp_path / "x.pdf"), "--database-url", url]
    )
    assert wrong.exit_code == 2 and ".csv or .xlsx" in wrong.output
