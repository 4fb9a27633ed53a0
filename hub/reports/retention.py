"""Reports are kept for the retention the consent text promises (30 days by default).

A purge deletes reports not updated within the retention, their follow-up tasks and the
alerts only they raised (with those alerts' audit and delivery rows; an alert a newer report
repeated stays), and records what it did in ``report_purges``. The hub runs it once a day on
its escalation timer (:class:`DailyPurge`); ``gridgate-hub reports purge`` runs it by hand.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from hub.alerts.escalation import DailyCheck
from hub.ledger.lookup import IN_CHUNK
from hub.store.alert_tables import AlertAuditRow, AlertRow, DeliveryRow
from hub.store.report_tables import ReportPurgeRow, ReportRow
from hub.store.task_tables import TaskRow
from hub.tasks.kinds import TaskKind
from models.alerts import AlertRule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (or, dry, would delete)."""

    older_than: datetime
    reports: int
    tasks: int
    alerts: int


def _chunks(values: Sequence[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(values), IN_CHUNK):
        yield list(values[start : start + IN_CHUNK])


def purge_reports(
    session: Session, now: datetime, days: int, *, actor: str, dry_run: bool = False
) -> PurgeResult:
    """Delete reports last updated more than ``days`` before ``now`` and what only they
    reference; audited in ``report_purges`` (a dry run counts, deletes nothing, records nothing)."""
    cutoff = now - timedelta(days=days)
    old = session.execute(
        select(ReportRow.report_id, ReportRow.alert_id).where(ReportRow.updated_at < cutoff)
    ).all()
    report_ids = [r.report_id for r in old]
    subjects = [f"report:{r}" for r in report_ids]
    candidates = sorted({r.alert_id for r in old if r.alert_id is not None})
    kept = {
        alert_id
        for chunk in _chunks(candidates)
        for alert_id in session.scalars(
            select(ReportRow.alert_id).where(
                ReportRow.alert_id.in_(chunk), ReportRow.updated_at >= cutoff
            )
        )
    }
    alerts = [
        alert_id
        for chunk in _chunks([a for a in candidates if a not in kept])
        for alert_id in session.scalars(
            select(AlertRow.alert_id).where(
                AlertRow.alert_id.in_(chunk), AlertRow.rule == str(AlertRule.REPORT_HIGH_RISK)
            )
        )
    ]
    kind = TaskRow.kind == str(TaskKind.REPORT_FOLLOWUP)
    tasks = [
        task_id
        for start in range(0, len(subjects), IN_CHUNK)
        for task_id in session.scalars(
            select(TaskRow.task_id).where(
                kind, TaskRow.subject.in_(subjects[start : start + IN_CHUNK])
            )
        )
    ]
    result = PurgeResult(cutoff, len(report_ids), len(tasks), len(alerts))
    if dry_run:
        return result
    for chunk in _chunks(tasks):
        session.execute(delete(TaskRow).where(TaskRow.task_id.in_(chunk)))
    for chunk in _chunks(alerts):
        for table in (DeliveryRow, AlertAuditRow):
            session.execute(delete(table).where(table.alert_id.in_(chunk)))
        session.execute(delete(AlertRow).where(AlertRow.alert_id.in_(chunk)))
    for chunk in _chunks(report_ids):
        session.execute(delete(ReportRow).where(ReportRow.report_id.in_(chunk)))
    session.execute(
        insert(ReportPurgeRow).values(
            at=now,
            actor=actor,
            older_than=cutoff,
            reports=result.reports,
            tasks=result.tasks,
            alerts=result.alerts,
        )
    )
    log.info(
        "purged %d reports older than %s (%d tasks, %d alerts) by %s",
        result.reports, cutoff.isoformat(), result.tasks, result.alerts, actor,
    )  # fmt: skip
    return result


class DailyPurge(DailyCheck):
    """An escalation-timer check that purges once per local day, in the timer's transaction;
    after a failure it tries again in an hour."""

    def __init__(self, days: int, zone: ZoneInfo) -> None:
        super().__init__(zone)
        self.days = days

    def run_daily(self, session: Session, now: datetime, today: date) -> None:
        """Purge the reports past retention."""
        purge_reports(session, now, self.days, actor="hub:daily")
