"""Daily tasks from the ledger, balanced across on-duty workers; results; the close-out."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select, update
from typer.testing import CliRunner

from hub.alerts.escalation import Escalator
from hub.api.main import create_app
from hub.auth.roles import Role
from hub.cli import app as hub_cli
from hub.config import HubSettings
from hub.ledger import sample
from hub.store import Store
from hub.store.alert_tables import AlertRow
from hub.store.ledger_tables import GridWorkerRow, HouseholdRow, ResidentRow, SiteRow
from hub.store.task_tables import TaskRow
from hub.tasks.daily import DailyTasks
from hub.tasks.generate import generate_tasks
from hub.tasks.kinds import TaskResult
from hub.tasks.record import record_result
from hub.tasks.report import close_out, to_csv
from models.alerts import Alert
from models.base import utc_now
from tests.hub.conftest import TEST_SECRET
from tests.support.grids import raise_alert
from tests.support.logins import add_login, bearer

IDENTITY = b"identity-key-for-task-tests-00000000"
ZONE = ZoneInfo("Asia/Shanghai")


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

    row, site = client.get("/api/reports/daily", headers=ops).json()
    assert row["grid_id"] == grid and row["site_id"] is None
    assert row["tasks"] == 5 and row["tasks_done"] == 1
    assert row["reached"] == 1 and row["away"] == 0
    assert row["alerts_opened"] == 1 and row["alerts_closed"] == 1
    assert row["households"] == row["occupied"] + row["vacant"] + 1  # one of unknown state
    assert (site["site_id"], site["grid_id"]) == (generated.sites[0]["site_id"], grid)
    assert site["alerts_opened"] == 0  # raise_alert's alert is at "site-a", not in the ledger

    text = client.get("/api/reports/daily", params={"format": "csv"}, headers=ops)
    assert text.headers["content-type"].startswith("text/csv")
    parsed, parsed_site = csv.DictReader(io.StringIO(text.content.decode("utf-8-sig")))
    assert parsed["tasks_done"] == "1" and parsed["grid_id"] == grid and parsed["site_id"] == ""
    assert parsed_site["site_id"] == site["site_id"]
    book = client.get("/api/reports/daily", params={"format": "xlsx"}, headers=ops)
    sheet = load_workbook(io.BytesIO(book.content))["close-out"]
    header, values, site_values = list(sheet.iter_rows(values_only=True))
    assert dict(zip(header, values, strict=True))["alerts_closed"] == 1
    assert dict(zip(header, site_values, strict=True))["site_name"] == site["site_name"]


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
    assert load_workbook(out)["close-out"].max_row == 3  # header, the grid, its site
    wrong = runner.invoke(
        hub_cli, ["tasks", "report", "--out", str(tmp_path / "x.pdf"), "--database-url", url]
    )
    assert wrong.exit_code == 2 and ".csv or .xlsx" in wrong.output


def test_residents_registered_in_the_last_day_get_a_confirmation_task(
    ledger: tuple[Store, sample.Sample],
) -> None:
    store, _ = ledger
    now = utc_now()
    with store.transaction() as session:
        newest, older = session.scalars(
            select(ResidentRow.resident_id).order_by(ResidentRow.resident_id.desc()).limit(2)
        ).all()
        session.execute(
            update(ResidentRow)
            .where(ResidentRow.resident_id == newest)
            .values(created_at=now - timedelta(hours=2))
        )
        session.execute(  # just outside the window
            update(ResidentRow)
            .where(ResidentRow.resident_id == older)
            .values(created_at=now - timedelta(hours=25))
        )
    with store.transaction() as session:
        added = generate_tasks(session, date.today(), now)
        confirm = session.scalars(select(TaskRow).where(TaskRow.kind == "new_registration")).all()
    assert added["new_registration"] == 1
    assert [(t.resident_id, t.subject) for t in confirm] == [(newest, f"resident:{newest}")]
    assert confirm[0].worker_id is not None


class Pushed:
    """An alert sink that keeps what it was given."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def _tasks_per_day(store: Store) -> dict[date, int]:
    with store.sessions() as session:
        return dict(Counter(session.scalars(select(TaskRow.day))))


def test_the_hub_timer_generates_each_days_tasks_once(
    ledger: tuple[Store, sample.Sample],
) -> None:
    store, _ = ledger
    daily = DailyTasks(ZONE)
    timer = Escalator(store, Pushed(), timedelta(minutes=15), extra_checks=[daily])
    assert timer.run_once() == 0
    today = utc_now().astimezone(ZONE).date()
    assert _tasks_per_day(store) == {today: 5}
    with store.transaction() as session:  # someone deletes a task: the timer leaves it be today
        session.delete(session.scalars(select(TaskRow).limit(1)).one())
    assert timer.run_once() == 0
    assert _tasks_per_day(store) == {today: 4}
    tomorrow = utc_now() + timedelta(days=1)
    with store.transaction() as session:
        assert daily(session, tomorrow) == []
        assert daily(session, tomorrow + timedelta(hours=1)) == []  # once a day
    counts = _tasks_per_day(store)
    assert counts[today] == 4 and counts[tomorrow.astimezone(ZONE).date()] >= 4
    with store.transaction() as session:  # by hand on the same day: nothing new
        assert generate_tasks(session, tomorrow.astimezone(ZONE).date(), tomorrow) == Counter()


def test_a_failed_daily_generation_waits_an_hour() -> None:
    daily = DailyTasks(ZONE)
    now = datetime(2026, 11, 25, 0, 5, tzinfo=ZONE)

    class Broken:
        def execute(self, *_: Any) -> None:
            raise RuntimeError("database gone")

        def scalars(self, *_: Any) -> None:
            raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        daily(Broken(), now)  # type: ignore[arg-type]
    assert daily(Broken(), now + timedelta(minutes=59)) == []  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        daily(Broken(), now + timedelta(minutes=61))  # type: ignore[arg-type]


def test_the_close_out_per_site_counts_each_person_once(
    ledger: tuple[Store, sample.Sample],
) -> None:
    store, generated = ledger
    grid, site = generated.sites[0]["grid_id"], generated.sites[0]["site_id"]
    with store.transaction() as session:
        session.add(SiteRow(site_id="S0002", name="新塘里2号小区", kind="compound", grid_id=grid))
        twice = session.scalars(
            select(ResidentRow.resident_id).where(ResidentRow.key_area_returnee)
        ).one()
        session.execute(  # the returnee is also overdue: two tasks for one person
            update(ResidentRow)
            .where(ResidentRow.resident_id == twice)
            .values(last_test_at=utc_now() - timedelta(hours=60))
        )
    today = utc_now().astimezone(ZONE).date()
    with store.transaction() as session:
        assert sum(generate_tasks(session, today, utc_now()).values()) == 6
        tasks = session.scalars(select(TaskRow).order_by(TaskRow.kind)).all()
        for task in tasks:
            if task.resident_id == twice:  # away on one, reached on the other: reached
                result = TaskResult.AWAY if task.kind == "test_overdue" else TaskResult.REACHED
                record_result(task, "wang", result, utc_now())
            elif task.kind == "unreachable":
                record_result(task, "wang", TaskResult.UNREACHABLE, utc_now())
    for at_site in (site, site, "S0002"):
        alert = raise_alert(store, grid, f"face:{at_site}:{uuid.uuid4()}")
        with store.transaction() as session:
            session.get(AlertRow, alert.alert_id).site_id = at_site  # type: ignore[union-attr]
    with store.sessions() as session:
        rows = close_out(session, today, ZONE)
        assert close_out(session, today, ZONE, frozenset({"G-none"})) == []
    by_site = {row.site_id: row for row in rows}
    assert list(by_site) == [None, site, "S0002"]
    whole = by_site[None]
    assert (whole.reached, whole.away, whole.unreachable) == (1, 0, 1)
    assert (whole.tasks, whole.tasks_done, whole.alerts_opened) == (6, 3, 3)
    assert (by_site[site].alerts_opened, by_site["S0002"].alerts_opened) == (2, 1)
    assert by_site["S0002"].site_name == "新塘里2号小区"
    assert by_site["S0002"].households == whole.households and by_site[site].reached == 1
    text = to_csv(rows)
    header, *lines = text.splitlines()
    assert header.split(",")[:5] == ["day", "grid_id", "grid_name", "site_id", "site_name"]
    assert [line.split(",")[3] for line in lines] == ["", site, "S0002"]
