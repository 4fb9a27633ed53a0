"""Take a valid report: store it (merged per person and arrival date), match it against the
ledger, rate its risk, open the follow-up task (and, for high risk, an alert), all in one
transaction; then push the alert (the same dispatcher as ingest's) and message the reporter.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.alerts.effects import AlertSink
from hub.alerts.repository import flush_audit, raise_or_repeat, to_alert
from hub.codes.verify import load_trust_list
from hub.config import HubSettings
from hub.ledger.address_search import AddressCandidate, search_addresses
from hub.ledger.idnumber import HolderHasher
from hub.push.personal import MessageSender
from hub.reports.followup import followup_task
from hub.reports.form import ValidReport
from hub.reports.messages import reporter_message
from hub.reports.messenger import ReportMessenger
from hub.reports.photo import HealthCodeReader
from hub.reports.ratelimit import Rate, TokenBuckets
from hub.reports.risk import RiskLevel, RiskRegion, highest, regions_for
from hub.reports.rows import Known, lookup, save_report
from hub.reports.tokens import ReportScope
from hub.rules.engine import AlertDraft
from hub.store.db import Store
from models.alerts import Alert, AlertRule, Severity
from models.base import new_id

REPORT_SITE = "report-code"
"""The ``site_id`` of alerts raised from self-reports (no gate saw them)."""
CLIENT_RATE = Rate(burst=10, every_s=30)
PHONE_RATE = Rate(burst=3, every_s=600)
REGIONS_CACHE_S = 30.0
"""How long the risk list is reused before it is read again (an import shows within this)."""


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
    alert: Alert | None = None


class ReportDesk:
    """Everything the report pages need: regions, address suggestions, rate limits, submit.

    ``sink`` (the push dispatcher) receives a report's alert once its transaction commits;
    the reporter's message goes through ``sender`` on the :class:`ReportMessenger` thread.
    """

    def __init__(
        self,
        store: Store,
        sender: MessageSender,
        zone: ZoneInfo,
        hasher: Callable[[str], str],
        *,
        sink: AlertSink | None = None,
        reader: HealthCodeReader | None = None,
        client_rate: Rate = CLIENT_RATE,
        phone_rate: Rate = PHONE_RATE,
        message_backoff_s: float = 1.0,
    ) -> None:
        self.store, self.sender, self.zone, self.hasher = store, sender, zone, hasher
        self.sink = sink
        # SQLite has one writer: threads queue here rather than in its sleeping busy handler
        self.writes: AbstractContextManager[object] = (
            threading.Lock() if store.dialect == "sqlite" else nullcontext()
        )
        self.messenger = ReportMessenger(
            store, sender, backoff_s=message_backoff_s, writes=self.writes
        )
        self._reader = reader
        self.clients = TokenBuckets(client_rate)
        self.phones = TokenBuckets(phone_rate)
        self._regions: tuple[float, date, list[RiskRegion]] | None = None
        self._regions_lock = threading.Lock()

    @classmethod
    def for_hub(
        cls, settings: HubSettings, store: Store, sender: MessageSender, sink: AlertSink | None
    ) -> ReportDesk:
        """The hub's desk: its zone and identity key (which must be set)."""
        if settings.identity_key is None:
            raise ValueError("self-reports need the identity key (GRIDGATE_HUB_IDENTITY_KEY)")
        hasher = HolderHasher(settings.identity_key.get_secret_value().encode())
        reader = None  # without a trust list, the photo reader is built on first use
        if settings.trust_list_file is not None:
            reader = HealthCodeReader(trust=load_trust_list(settings.trust_list_file))
        return cls(store, sender, settings.zone, hasher, sink=sink, reader=reader)

    def close(self) -> None:
        """Stop the message worker (messages still queued stay pending on their reports)."""
        self.messenger.stop()

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
        """The regions a reporter picks from on ``day`` (read at most every 30 s)."""
        now = time.monotonic()
        with self._regions_lock:
            cached = self._regions
        if cached is not None and cached[1] == day and now - cached[0] < REGIONS_CACHE_S:
            return cached[2]
        with self.store.sessions() as session:
            regions = regions_for(session, day)
        with self._regions_lock:
            self._regions = (now, day, regions)
        return regions

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
        if outcome.alert is not None and self.sink is not None:
            self.sink.publish([outcome.alert])
        self.messenger.send(outcome.report_id, report.phone, outcome.message)
        return outcome

    def _commit(self, report: ValidReport, scope: ReportScope, now: datetime) -> ReportOutcome:
        """One transaction; on SQLite the lookup (no write yet) runs before the writer lock."""
        with self.store.sessions() as session:
            known = lookup(session, report.holder_ref, report.address_code, report.arrival_date)
            with self.writes:
                outcome = self._record(session, report, scope, now, known)
                session.commit()
            return outcome

    def _record(
        self,
        session: Session,
        report: ValidReport,
        scope: ReportScope,
        now: datetime,
        known: Known,
    ) -> ReportOutcome:
        if report.address_code is not None:  # picked from the ledger: in the scope's grid
            grid = known.grid_id
            if grid is None or scope.grid_id not in (None, grid):
                raise ReportFieldError("address", "address_unknown")
        else:
            grid = scope.grid_id or known.home_grid_id
        if grid is None:
            raise ReportFieldError("address", "address_pick")
        today = self.today(now)
        listed = {r.region_code: r for r in self.regions(today)}
        visited = [listed[code] for code in report.regions if code in listed]
        risk = highest(r.level for r in visited)
        merged = known.report_id is not None
        report_id = known.report_id or new_id()
        places = "、".join(r.name for r in visited) or "-"
        task = followup_task(
            session,
            report_id=report_id,
            day=today,
            grid_id=grid,
            address_code=report.address_code,
            resident_id=known.resident_id,
            note=f"[{risk}] {report.name} {report.phone} {report.address_text}; {places}"[:1000],
            new_report=not merged,
        )
        raised: Alert | None = None
        if risk is RiskLevel.HIGH:
            alert = raise_or_repeat(
                session,
                AlertDraft(
                    rule=AlertRule.REPORT_HIGH_RISK,
                    severity=Severity.MAJOR,
                    subject_ref=report.holder_ref,
                    grid_id=grid,
                    summary=f"self-report {report.id_masked}: high-risk {places}"[:500],
                    resident_id=known.resident_id,
                ),
                site_id=REPORT_SITE,
                gate_id=None,
                event_id=report_id,
                now=now,
                address_code=report.address_code,
            )
            flush_audit(session)
            raised = to_alert(alert)
        values = {
            "holder_ref": report.holder_ref,
            "id_masked": report.id_masked,
            "name": report.name,
            "phone": report.phone,
            "arrived": report.arrived,
            "arrival_date": report.arrival_date,
            "address_text": report.address_text,
            "address_code": report.address_code,
            "grid_id": grid,
            "resident_id": known.resident_id,
            "regions": list(report.regions),
            "risk_level": str(risk),
            "health_code": report.health_code,
            "consent_version": report.consent_version,
            "task_id": task.task_id,
            "alert_id": raised.alert_id if raised else None,
            "updated_at": now,
            "message_status": "pending",
            "message_attempts": 0,
            "message_error": "",
        }
        save_report(session, report_id, values, merged=merged, now=now)
        return ReportOutcome(
            report_id=report_id,
            merged=merged,
            risk=risk,
            grid_id=grid,
            resident_id=known.resident_id,
            address_code=report.address_code,
            task_id=task.task_id,
            worker_id=task.worker_id,
            alert_id=raised.alert_id if raised else known.alert_id,
            message=reporter_message(report.name, risk),
            alert=raised,
        )
