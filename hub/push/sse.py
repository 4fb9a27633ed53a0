"""Server-Sent Events: alerts fanned out to browser subscribers of the API."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from models.alerts import Alert

QUEUE_LIMIT = 1000


@dataclass(eq=False)
class Subscription:
    """One browser's stream, optionally limited to some grids."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Alert]
    grids: frozenset[str] | None


class SseBroadcaster:
    """Thread-safe fan-out from the push worker to asyncio subscribers."""

    name = "sse"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self.dropped = 0

    def subscribe(self, grids: frozenset[str] | None = None) -> Subscription:
        """Register the calling event loop's stream."""
        subscription = Subscription(asyncio.get_running_loop(), asyncio.Queue(QUEUE_LIMIT), grids)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a closed stream."""
        with self._lock:
            self._subscribers.discard(subscription)

    @property
    def subscribers(self) -> int:
        """Open streams."""
        with self._lock:
            return len(self._subscribers)

    def send(self, alert: Alert) -> str:
        """Queue ``alert`` on every matching stream; a full queue drops it (counted)."""
        with self._lock:
            targets = [s for s in self._subscribers if s.grids is None or alert.grid_id in s.grids]
        for subscription in targets:
            subscription.loop.call_soon_threadsafe(self._offer, subscription, alert)
        return f"{len(targets)} streams"

    def _offer(self, subscription: Subscription, alert: Alert) -> None:
        try:
            subscription.queue.put_nowait(alert)
        except asyncio.QueueFull:
            self.dropped += 1

    def close(self) -> None:
        """Nothing to release."""
