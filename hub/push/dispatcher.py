"""After commit, alerts go through every channel on a worker thread, retried with backoff.

Each attempt's outcome is stored as a delivery row (sent, or failed with the last error), so
an operator can see which channel reached whom.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence

from hub.push.base import AlertChannel, ChannelError
from hub.store.alert_tables import DeliveryRow
from hub.store.db import Store
from models.alerts import Alert
from models.base import utc_now

log = logging.getLogger(__name__)


class PushDispatcher:
    """Implements :class:`hub.alerts.effects.AlertSink`."""

    def __init__(
        self,
        store: Store,
        channels: Sequence[AlertChannel],
        *,
        attempts: int = 5,
        backoff_s: float = 0.5,
    ) -> None:
        self.store = store
        self.channels = list(channels)
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        """Start the worker."""
        self._thread = threading.Thread(target=self._run, name="hub-push", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, then stop and close the channels."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
        for channel in self.channels:
            channel.close()

    def publish(self, alerts: list[Alert]) -> None:
        """Queue committed alerts (called from the ingest thread after its commit)."""
        for alert in alerts:
            self._queue.put(alert)

    def wait_idle(self, timeout: float) -> bool:
        """True once the queue has drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            try:
                if alert is None:
                    return
                for channel in self.channels:
                    self._deliver(channel, alert)
            finally:
                self._queue.task_done()

    def _deliver(self, channel: AlertChannel, alert: Alert) -> None:
        error = ""
        target = ""
        for attempt in range(1, self.attempts + 1):
            try:
                target = channel.send(alert)
            except ChannelError as exc:
                error = str(exc)
                log.warning(
                    "%s delivery of %s failed (%d): %s", channel.name, alert.alert_id, attempt, exc
                )
                time.sleep(min(self.backoff_s * 2 ** (attempt - 1), 10.0))
                continue
            self.sent += 1
            self._record(alert, channel.name, target, "sent", attempt, "")
            return
        self.failed += 1
        self._record(alert, channel.name, target, "failed", self.attempts, error)

    def _record(
        self, alert: Alert, channel: str, target: str, status: str, attempts: int, error: str
    ) -> None:
        try:
            with self.store.transaction() as session:
                session.add(
                    DeliveryRow(
                        alert_id=alert.alert_id,
                        channel=channel,
                        target=target[:200],
                        status=status,
                        attempts=attempts,
                        last_error=error[:500],
                        updated_at=utc_now(),
                    )
                )
        except Exception as exc:  # the store may be down: delivery itself already happened
            log.warning("could not record the %s delivery of %s: %s", channel, alert.alert_id, exc)
