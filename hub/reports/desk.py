"""Take a valid report: store it (merged per person and arrival date), match it against the
ledger, rate its risk, open the follow-up task (and, for high risk, an alert), all in one
transaction; then message the reporter.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.alerts.repository import flush_audit, raise_or_repeat
from hub.ledger.address_search import AddressCandidate, search_addresses
from hub.push.base import ChannelError
from hub.push.personal import MessageSender
from hub.reports.followup import followup_task
from hub.reports.form import ValidReport
from hub.reports.messages import reporter_message
from hub.reports.photo import HealthCodeReader
from hub.reports.ratelimit import Rate, TokenBuckets
from hub.reports.risk import RiskLevel, RiskRegion, highest, regions_for
from hub.reports.tokens import ReportScope
from hub.rules.engine import AlertDraft
from hub.store.db import Store
from hub.store.ledger_tables import AddressRow, ResidentRow
from hub.store.report_tables import ReportRow
from models.alerts import AlertRule, Severity
from models.base import new_id

log = logging.getLogger(__name__)

REPORT_SITE = "report-code"
"""The ``site_id`` of alerts raised from self-reports (no gate saw them)."""
CLIENT_RATE = Rate(burst=10, every_s=30)
PHONE_RATE = Rate(burst=3, every_s=600)


class ReportFieldError(ValueError):
    """A report valid field by field that the ledger refuses (e.g. an unknown address)."""

    def __init__(self, field: str, key: str) -> None:
        super().__init__(f"{field}: {key}")
        self.field, self.key = field, key


@dataclass(frozen=True)
class ReportOutcome:
    """What became of a report."""

    report_id: uuid.UUID
    merged: bool
    risk: RiskLevel
    grid_id: str
    resident_id: str | None
    address_code: str | None
    task_id: uuid.UUID
    worker_id: str | None
    alert_id: uuid.UUID | None
    message: str


class ReportDesk:
    """Everything the report pages need: regions, address suggestions, rate limits, submit."""

    def __init__(
        self,
        store: Store,
        sender: MessageSender,
        zone: ZoneInfo,
        hasher: Callable[[str], str],
        *,
        reader: HealthCodeReader | None = None,
        client_rate: Rate = CLIENT_RATE,
        phone_rate: Rate = PHONE_RATE,
    ) -> None:
        self.store, self.sender, self.zone, self.hasher = store, sender, zone, hasher
        self._reader = reader
        self.clients = TokenBuckets(client_rate)
        self.phones = TokenBuckets(phone_rate)

    def today(self, now: datetime) -> date:
        """The hub's local date at ``now``."""
        return now.astimezone(self.zone).date()

    def health_code(self, photo: bytes) -> str:
        """The format of the health code in ``photo`` (or :class:`PhotoError`)."""
        if self._reader is None:
            self._reader = HealthCodeReader()
        return self._reader.read(photo)

    def allow_client(self, address: str) -> bool:
        """One more submission from this client address?"""
        return self.clients.take(address, time.monotonic())

    def allow_phone(self, phone: str) -> bool:
        """One more submission for this phone number?"""
        return self.phones.take(phone, time.monotonic())

    def regions(self, day: date) -> list[RiskRegion]:
        """The regions a reporter picks from on ``day``."""
        with self.store.sessions() as session:
            return regions_for(session, day)

    def suggestions(self, scope: ReportScope, text: str, limit: int = 8) -> list[AddressCandidate]:
        """Ledger addresses like ``text`` within the scope's grid."""
        with self.store.sessions() as session:
            found = search_addresses(session, text, limit=50)
        return [c for c in found if scope.grid_id in (None, c.grid_id)][:limit]

    def submit(self, report: ValidReport, scope: ReportScope, now: datetime) -> ReportOutcome:
        """Record ``report`` (or :class:`ReportFieldError`, nothing stored), then message them."""
        try:
            outcome = self._commit(report, scope, now)
        except IntegrityError:  # the same person and date submitted at the same time: merge
            outcome = self._commit(report, scope, now)
        try:
            self.sender.deliver(report.phone, outcome.message)
        except ChannelError as exc:
            log.warning("report %s: message not sent: %s", outcome.report_id, exc)
        return outcome

    def _commit(self, report: ValidReport, scope: ReportScope, now: datetime) -> ReportOutcome:
        with self.store.transaction() as session:
            return self._record(session, report, scope, now)

    def _record(
        self, session: Session, report: ValidReport, scope: ReportScope, now: datetime
    ) -> ReportOutcome:
        resident = session.scalars(
            select(ResidentRow).where(ResidentRow.holder_ref == report.holder_ref)
        ).one_or_none()
        address = _address(session, report, scope)
        home = (
            session.get(AddressRow, resident.address_code)
            if resident and resident.address_code
            else None
        )
        grid = address.grid_id if address else scope.grid_id or (home.grid_id if home else None)
        if grid is None:
            raise ReportFieldError("address", "address_pick")
        listed = {r.region_code: r for r in regions_for(session, self.today(now))}
        visited = [listed[code] for code in report.regions if code in listed]
        risk = highest(r.level for r in visited)
        row = session.scalars(
            select(ReportRow).where(
                ReportRow.holder_ref == report.holder_ref,
                ReportRow.arrival_date == report.arrival_date,
            )
        ).one_or_none()
        merged = row is not None
        if row is None:
            row = ReportRow(
                report_id=new_id(), holder_ref=report.holder_ref, submissions=1, created_at=now
            )
            session.add(row)
        else:
            row.submissions += 1
        row.id_masked, row.name, row.phone = report.id_masked, report.name, report.phone
        row.arrived, row.arrival_date = report.arrived, report.arrival_date
        row.address_text, row.address_code = (
            report.address_text,
            address.address_code if address else None,
        )
        row.grid_id, row.resident_id = grid, resident.resident_id if resident else None
        row.regions, row.risk_level = list(report.regions), str(risk)
        row.health_code = report.health_code or row.health_code
        row.consent_version, row.updated_at = report.consent_version, now
        places = "、".join(r.name for r in visited) or "-"
        task = followup_task(
            session,
            report_id=row.report_id,
            day=self.today(now),
            grid_id=grid,
            address_code=row.address_code,
            resident_id=row.resident_id,
            note=f"[{risk}] {report.name} {report.phone} {report.address_text}; {places}"[:1000],
        )
        row.task_id = task.task_id
        if risk is RiskLevel.HIGH:
            alert = raise_or_repeat(
                session,
                AlertDraft(
                    rule=AlertRule.REPORT_HIGH_RISK,
                    severity=Severity.MAJOR,
                    subject_ref=report.holder_ref,
                    grid_id=grid,
                    summary=f"self-report {report.id_masked}: high-risk {places}"[:500],
                    resident_id=row.resident_id,
                ),
                site_id=REPORT_SITE,
                gate_id=None,
                event_id=row.report_id,
                now=now,
            )
            flush_audit(session)
            row.alert_id = alert.alert_id
        return ReportOutcome(
            report_id=row.report_id,
            merged=merged,
            risk=risk,
            grid_id=grid,
            resident_id=row.resident_id,
            address_code=row.address_code,
            task_id=task.task_id,
            worker_id=task.worker_id,
            alert_id=row.alert_id,
            message=reporter_message(report.name, risk),
        )


def _address(session: Session, report: ValidReport, scope: ReportScope) -> AddressRow | None:
    """The picked ledger address (it must be in the scope's grid), or None for free text."""
    if report.address_code is None:
        return None
    address = session.get(AddressRow, report.address_code)
    if address is None or scope.grid_id not in (None, address.grid_id):
        raise ReportFieldError("address", "address_unknown")
    return address
