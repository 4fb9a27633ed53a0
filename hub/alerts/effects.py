"""The ingest effects that turn a new passage into alerts, in the event's own transaction.

Match → rules → raise or repeat alerts, all inside the transaction that stores the event, so
an event and its alerts commit together or not at all. Alerts are handed to the push
dispatcher only after that transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from hub.alerts.repository import flush_audit, raise_or_repeat, to_alert
from hub.match.faces import FaceIndex
from hub.match.ledger import LedgerLookup
from hub.match.matcher import match_passage
from hub.match.strangers import StrangerIndex
from hub.rules.config import RulesConfig
from hub.rules.engine import evaluate
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
    """Implements :class:`hub.ingest.effects.EventEffects` with matching and rules."""

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
        now = utc_now()
        ledger: LedgerLookup | None = session.info.get("gridgate_ledger")
        if ledger is None:  # one lookup (and its caches) per transaction
            ledger = session.info["gridgate_ledger"] = self.ledger(session)
        match = match_passage(event, ledger, self.faces, self.thresholds, self.strangers)
        drafts = evaluate(event, match, self.rules(event.site_id), now)
        if not drafts:
            return
        rows = [
            raise_or_repeat(
                session,
                draft,
                site_id=event.site_id,
                gate_id=event.gate_id,
                event_id=event.event_id,
                now=now,
            )
            for draft in drafts
        ]
        flush_audit(session)
        self._after_commit(session, [to_alert(row) for row in rows])

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


def _discard(session: Session) -> None:
    session.info.pop("gridgate_alerts", None)
