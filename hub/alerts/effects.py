"""The ingest effects that turn a new passage into alerts, in the event's own transaction.

Match → rules → raise or repeat alerts, all inside the transaction that stores the event, so
an event and its alerts commit together or not at all. Alerts are handed to the push
dispatcher only after that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alerts.repository import (
    active_key,
    flush_audit,
    raise_or_repeat,
    to_alert,
    with_scope,
)
from hub.ledger.lookup import IN_CHUNK
from hub.match.faces import FaceIndex
from hub.match.ledger import LedgerLookup
from hub.match.matcher import match_passages
from hub.match.strangers import StrangerIndex
from hub.rules.config import RulesConfig
from hub.rules.engine import evaluate
from hub.store.alert_tables import AlertRow
from hub.store.keyed import keys_in
from hub.vehicles.effects import record_vehicles
from models.alerts import Alert
from models.base import utc_now
from models.events import PassageEvent
from models.face_match import FaceThresholds

LedgerFactory = Callable[[Session], LedgerLookup]


class AlertSink(Protocol):
    """Receives alerts once they are committed (the push dispatcher)."""

    def publish(self, alerts: list[Alert]) -> None:
        """Deliver ``alerts``; must not block for long."""
        ...


class AlertEffects:
    """Implements :class:`hub.ingest.effects.BatchEffects` with matching and rules."""

    def __init__(
        self,
        ledger: LedgerFactory,
        faces: FaceIndex,
        sink: AlertSink | None = None,
        rules: Callable[[str], RulesConfig] | None = None,
        thresholds: FaceThresholds | None = None,
    ) -> None:
        self.ledger = ledger
        self.faces = faces
        self.sink = sink
        self.rules = rules or (lambda site_id: RulesConfig())
        self.thresholds = thresholds or FaceThresholds()
        self.strangers = StrangerIndex(self.thresholds)

    def apply(self, session: Session, event: PassageEvent) -> None:
        """Match the passage, evaluate the site's rules, raise or repeat alerts."""
        self.apply_many(session, [event])

    def apply_many(self, session: Session, events: Sequence[PassageEvent]) -> None:
        """:meth:`apply` for each event in order, with the ledger and alerts read once."""
        ledger: LedgerLookup | None = session.info.get("gridgate_ledger")
        if ledger is None:  # one lookup (and its caches) per transaction
            ledger = session.info["gridgate_ledger"] = self.ledger(session)
        matches = match_passages(events, ledger, self.faces, self.thresholds, self.strangers)
        vehicles = record_vehicles(session, events, ledger, self.rules)  # {}: no vehicles
        drafted = []
        for event, match in zip(events, matches, strict=True):
            now = utc_now()
            drafts = evaluate(event, match, self.rules(event.site_id), now)
            drafted.append((event, now, drafts + vehicles.get(event.event_id, [])))
        keys = {active_key(d.rule, d.subject_ref) for _, _, drafts in drafted for d in drafts}
        if not keys:
            return
        active = _active_alerts(session, keys)
        raised: list[tuple[AlertRow, Alert]] = []
        for event, now, drafts in drafted:
            if not drafts:
                continue
            plate = next((p.address_code for p in event.door_plates()), None)
            for draft in drafts:
                row = raise_or_repeat(
                    session,
                    draft,
                    site_id=event.site_id,
                    gate_id=event.gate_id,
                    event_id=event.event_id,
                    now=now,
                    active=active,
                    address_code=plate,
                )
                raised.append((row, to_alert(row)))  # as of this repeat
        flush_audit(session)  # also fills the new alerts' building and community
        self._after_commit(session, [with_scope(alert, row) for row, alert in raised])

    def _after_commit(self, session: Session, alerts: list[Alert]) -> None:
        sink = self.sink
        if sink is None:
            return
        pending: list[Alert] = session.info.setdefault("gridgate_alerts", [])
        if not pending:
            sa_event.listen(session, "after_commit", _flush_to(sink), once=True)
            sa_event.listen(session, "after_rollback", _discard, once=True)
        pending.extend(alerts)


def _flush_to(sink: AlertSink) -> Callable[[Session], None]:
    def flush(session: Session) -> None:
        alerts = session.info.pop("gridgate_alerts", [])
        if alerts:
            sink.publish(alerts)

    return flush


_ACTIVE = select(AlertRow).where(keys_in(AlertRow.active_key))
"""Active alerts by key: built once, so each batch only binds its keys."""


def _active_alerts(session: Session, keys: Iterable[str]) -> dict[str, AlertRow | None]:
    """The active alert of each key (None: there is none), in a few ``IN`` queries."""
    found: dict[str, AlertRow | None] = dict.fromkeys(keys)
    ordered = sorted(found)
    with session.no_autoflush:  # alerts of this transaction are in raise_or_repeat's pending
        for start in range(0, len(ordered), IN_CHUNK):
            chunk = {"keys": ordered[start : start + IN_CHUNK]}
            found.update(
                {row.active_key: row for row in session.scalars(_ACTIVE, chunk) if row.active_key}
            )
    return found


def _discard(session: Session) -> None:
    session.info.pop("gridgate_alerts", None)
