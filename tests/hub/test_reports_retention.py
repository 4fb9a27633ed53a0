"""Reports past the retention are purged with what only they reference, and audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hub.alerts.escalation import Escalator
from hub.cli import app as hub_cli
from hub.ledger.idnumber import HolderHasher
from hub.push.log import LogSender
from hub.reports.desk import ReportDesk, ReportOutcome
from hub.reports.form import ReportInput, ValidReport, check_report
from hub.reports.retention import DailyPurge
from hub.reports.risk import import_risk_list, parse_risk_csv
from hub.reports.tokens import ReportScope
from hub.store import Store
from hub.store.alert_tables import AlertAuditRow, AlertRow, DeliveryRow
from hub.store.report_tables import ReportPurgeRow, ReportRow
from hub.store.task_tables import TaskRow
from models.alerts import Alert
from models.base import utc_now
from tests.hub.test_reports import (
    IDENTITY,
    RESIDENT_ID,
    form_data,
    seed_report_ledger,
    with_check_digit,
)

ZONE = ZoneInfo("Asia/Shanghai")
OTHER_ID = with_check_digit("11010819770101002")
SCOPE = ReportScope("G-A", utc_now() + timedelta(days=1))


@pytest.fixture
def desk(store: Store) -> Iterator[ReportDesk]:
    seed_report_ledger(store)
    listed = "region_code,name,level,valid_from,valid_to\n310115,上海市浦东新区,high,{},{}\n"
    today = utc_now().date()
    with store.transaction() as session:  # in force for the old reports too
        regions = listed.format(today - timedelta(days=60), today + timedelta(days=30))
        import_risk_list(session, parse_risk_csv(regions))
    opened = ReportDesk(store, LogSender(), ZONE, HolderHasher(IDENTITY.encode()))
    yield opened
    opened.close()


def submit(desk: ReportDesk, days_ago: float, **changes: Any) -> ReportOutcome:
    """A report submitted ``days_ago`` (arrived that day)."""
    when = utc_now() - timedelta(days=days_ago)
    day = desk.today(when)
    data = {**form_data(arrival_date=str(day)), **changes, "consent": True}
    data["regions"] = tuple(data["regions"])
    raw = ReportInput(**data)
    report = check_report(raw, today=day, hasher=desk.hasher, regions={"310115"})
    assert isinstance(report, ValidReport), report
    outcome = desk.submit(report, SCOPE, when)
    assert desk.messenger.wait_idle(10)
    return outcome


def count(store: Store, table: Any, *where: Any) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table).where(*where)) or 0


def test_old_reports_their_tasks_and_alerts_only_they_raised_are_purged(
    desk: ReportDesk, store: Store, db_url: str
) -> None:
    old_high = submit(desk, 40)
    old_none = submit(desk, 35, id_number=RESIDENT_ID, regions=[])
    repeated_old = submit(desk, 40, id_number=OTHER_ID, phone="13700000000")
    repeated_new = submit(desk, 1, id_number=OTHER_ID, phone="13700000000")
    recent = submit(desk, 2, address="新塘里96号", address_code="", regions=[])
    assert repeated_old.alert_id == repeated_new.alert_id is not None
    assert old_high.alert_id is not None and old_none.alert_id is None
    with store.transaction() as session:
        session.add(
            DeliveryRow(
                alert_id=old_high.alert_id, channel="sms", target="139", status="sent",
                attempts=1, last_error="", updated_at=utc_now(),
            )
        )  # fmt: skip
    runner = CliRunner()
    args = ["reports", "purge", "--database-url", db_url]
    dry = runner.invoke(hub_cli, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete 3 reports" in dry.output and "3 follow-up tasks, 1 alerts" in dry.output
    assert (count(store, ReportRow), count(store, ReportPurgeRow)) == (5, 0)

    done = runner.invoke(hub_cli, args)
    assert done.exit_code == 0, done.output
    assert "deleted 3 reports" in done.output
    with store.sessions() as session:
        left = set(session.scalars(select(ReportRow.report_id)))
        purge = session.scalars(select(ReportPurgeRow)).one()
        subjects = set(session.scalars(select(TaskRow.subject)))
        alerts = set(session.scalars(select(AlertRow.alert_id)))
    assert left == {repeated_new.report_id, recent.report_id}
    assert subjects == {f"report:{r}" for r in left}
    assert alerts == {repeated_new.alert_id}
    assert count(store, AlertAuditRow, AlertAuditRow.alert_id == old_high.alert_id) == 0
    assert count(store, DeliveryRow) == 0
    assert (purge.actor, purge.reports, purge.tasks, purge.alerts) == ("cli", 3, 3, 1)
    assert abs(purge.older_than - (purge.at - timedelta(days=30))) < timedelta(seconds=1)

    again = runner.invoke(hub_cli, [*args, "--older-than-days", "1"])
    assert again.exit_code == 0 and "deleted 2 reports" in again.output
    assert count(store, AlertRow) == 0 and count(store, ReportPurgeRow) == 2
    for bad in ("0", "-3", "thirty"):
        refused = runner.invoke(hub_cli, [*args, "--older-than-days", bad])
        assert refused.exit_code == 2, bad


class Pushed:
    """An alert sink that keeps what it was given."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def test_the_hub_timer_purges_once_a_day(desk: ReportDesk, store: Store) -> None:
    submit(desk, 31, regions=[])
    kept = submit(desk, 29, id_number=RESIDENT_ID, regions=[])
    purge = DailyPurge(30, ZONE)
    timer = Escalator(store, Pushed(), timedelta(minutes=15), extra_checks=[purge])
    assert timer.run_once() == 0
    assert timer.run_once() == 0
    with store.sessions() as session:
        assert set(session.scalars(select(ReportRow.report_id))) == {kept.report_id}
        audit = session.scalars(select(ReportPurgeRow)).all()
    assert [(a.actor, a.reports) for a in audit] == [("hub:daily", 1)]
    tomorrow = utc_now() + timedelta(days=1, hours=1)
    with store.transaction() as session:
        assert purge(session, tomorrow) == []
    assert count(store, ReportRow) == 0 and count(store, ReportPurgeRow) == 2


def test_a_failed_daily_purge_waits_an_hour() -> None:
    purge = DailyPurge(30, ZONE)
    now = datetime(2026, 11, 25, 3, tzinfo=ZONE)

    class Broken:
        def execute(self, *_: Any) -> None:
            raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        purge(Broken(), now)  # type: ignore[arg-type]
    assert purge(Broken(), now + timedelta(minutes=59)) == []  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        purge(Broken(), now + timedelta(minutes=61))  # type: ignore[arg-type]
