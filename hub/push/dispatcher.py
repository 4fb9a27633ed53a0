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
        self._deadline: float | None = None
        self.sent = 0
        self.failed = 0
        self.abandoned = 0

    def start(self) -> None:
        """Start the worker."""
        self._thread = threading.Thread(target=self._run, name="hub-push", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout``, then stop and close the channels.

        Alerts still queued after that stay in the store (the dashboard shows them); their
        push is abandoned and counted.
        """
        self._deadline = time.monotonic() + timeout
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout + 2.0)
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
            batch = self._take()
            records: list[DeliveryRow] = []
            stop = False
            for alert in batch:
                if alert is None:
                    stop = True
                elif self._deadline is not None and time.monotonic() > self._deadline:
                    self.abandoned += 1
                else:
                    records += [self._deliver(channel, alert) for channel in self.channels]
            self._record(records)
            for _ in batch:
                self._queue.task_done()
            if stop:
                if self.abandoned:
                    log.warning("%d alerts were stored but not pushed before stop", self.abandoned)
                return

    def _take(self, limit: int = 200) -> list[Alert | None]:
        batch = [self._queue.get()]
        while len(batch) < limit and batch[-1] is not None:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _deliver(self, channel: AlertChannel, alert: Alert) -> DeliveryRow:
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
                if self._deadline is not None:
                    break  # stopping: no retries
                time.sleep(min(self.backoff_s * 2 ** (attempt - 1), 10.0))
                continue
            self.sent += 1
            return self._row(alert, channel.name, target, "sent", attempt, "")
        self.failed += 1
        return self._row(alert, channel.name, target, "failed", self.attempts, error)

    @staticmethod
    def _row(
        alert: Alert, channel: str, target: str, status: str, attempts: int, error: str
    ) -> DeliveryRow:
        return DeliveryRow(
            alert_id=alert.alert_id,
            channel=channel,
            target=target[:200],
            status=status,
            attempts=attempts,
            last_error=error[:500],
            updated_at=utc_now(),
        )

    def _record(self, rows: list[DeliveryRow]) -> None:
        if not rows:
            return
        try:
            with self.store.transaction() as session:
                session.add_all(rows)
        except Exception as exc:  # the store may be down: delivery itself already happened
            log.warning("could not record %d deliveries: %s", len(rows), exc)
