"""Who an alert reaches: the on-duty grid workers of its grid (and, once escalated, the
grid leader), on the channels their ledger entry names, filtered by their subscriptions."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from hub.store.alert_tables import SubscriptionRow
from hub.store.db import Store
from hub.store.ledger_tables import GridRow, GridWorkerRow, worker_grids
from models.alerts import Alert, AlertRule, Severity

SEVERITY_RANK = {Severity.WARNING: 0, Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}
CACHE_S = 30.0


@dataclass(frozen=True)
class Subscription:
    """Which alerts a worker wants on one channel."""

    enabled: bool = True
    min_severity: Severity = Severity.WARNING
    rules: frozenset[AlertRule] | None = None

    def admits(self, alert: Alert) -> bool:
        """This alert should reach the worker on this channel."""
        return (
            self.enabled
            and SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[self.min_severity]
            and (self.rules is None or alert.rule in self.rules)
        )


@dataclass(frozen=True)
class Recipient:
    """A worker reachable on one channel at one address."""

    worker_id: str
    channel: str
    target: str
    subscription: Subscription
    on_duty: bool
    leader: bool


class RecipientDirectory:
    """Resolves an alert's recipients from the ledger; per-grid results cached briefly."""

    def __init__(self, store: Store, cache_s: float = CACHE_S) -> None:
        self.store, self.cache_s = store, cache_s
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, list[Recipient]]] = {}

    def for_alert(self, alert: Alert, channel: str) -> list[Recipient]:
        """On-duty workers (and the leader once escalated) who take ``alert`` on ``channel``."""
        return [
            r
            for r in self._grid(alert.grid_id)
            if r.channel == channel
            and (r.on_duty or (alert.escalated and r.leader))
            and r.subscription.admits(alert)
        ]

    def forget(self) -> None:
        """Drop the cache (after a ledger import or a subscription change)."""
        with self._lock:
            self._cache.clear()

    def _grid(self, grid_id: str) -> list[Recipient]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(grid_id)
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        recipients = self._load(grid_id)
        with self._lock:
            self._cache[grid_id] = (now, recipients)
        return recipients

    def _load(self, grid_id: str) -> list[Recipient]:
        with self.store.sessions() as session:
            leader = session.scalar(
                select(GridRow.leader_worker_id).where(GridRow.grid_id == grid_id)
            )
            assigned = select(worker_grids.c.worker_id).where(worker_grids.c.grid_id == grid_id)
            workers = session.scalars(
                select(GridWorkerRow).where(
                    (GridWorkerRow.worker_id.in_(assigned)) | (GridWorkerRow.worker_id == leader)
                )
            ).all()
            subscriptions = {
                (s.worker_id, s.channel): s
                for s in session.scalars(
                    select(SubscriptionRow).where(
                        SubscriptionRow.worker_id.in_([w.worker_id for w in workers])
                    )
                )
            }
            return [
                Recipient(
                    worker_id=w.worker_id,
                    channel=channel,
                    target=str(target),
                    subscription=_subscription(subscriptions.get((w.worker_id, channel))),
                    on_duty=w.on_duty,
                    leader=w.worker_id == leader,
                )
                for w in sorted(workers, key=lambda w: w.worker_id)
                for channel, target in sorted((w.channels or {}).items())
                if target
            ]


def _subscription(row: SubscriptionRow | None) -> Subscription:
    if row is None:
        return Subscription()
    return Subscription(
        enabled=row.enabled,
        min_severity=Severity(row.min_severity),
        rules=frozenset(AlertRule(r) for r in row.rules) if row.rules is not None else None,
    )
