"""After commit, alerts go through every channel, each on its own worker thread, retried with
backoff.

Each attempt's outcome is stored as a delivery row (sent, or failed with the last error), so
an operator can see which channel reached whom.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from hub.batching import take_batch
from hub.push.base import AlertChannel, ChannelError
from hub.store.alert_tables import DeliveryRow
from hub.store.db import Store
from hub.store.many import insert_rows
from models.alerts import Alert
from models.base import utc_now

log = logging.getLogger(__name__)


class PushDispatcher:
    """Implements :class:`hub.alerts.effects.AlertSink`: one worker thread per channel, so a
    slow or failing channel (an SMS gateway retrying) never delays the others (the grid's
    MQTT topic, the dashboards' SSE)."""

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
        self._lanes = [_Lane(self, channel) for channel in self.channels]
        self._records: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()
        self._recorder: threading.Thread | None = None

    @property
    def sent(self) -> int:
        """Deliveries that succeeded, over all channels."""
        return sum(lane.sent for lane in self._lanes)

    @property
    def failed(self) -> int:
        """Deliveries that failed after every attempt, over all channels."""
        return sum(lane.failed for lane in self._lanes)

    @property
    def abandoned(self) -> int:
        """Deliveries still queued when a stop's deadline passed, over all channels."""
        return sum(lane.abandoned for lane in self._lanes)

    def start(self) -> None:
        """Start one worker per channel, and the one that records their outcomes."""
        self._recorder = threading.Thread(target=self._record_loop, name="hub-push-record")
        self._recorder.daemon = True
        self._recorder.start()
        for lane in self._lanes:
            lane.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout``, then stop and close the channels.

        Alerts still queued after that stay in the store (the dashboard shows them); their
        push is abandoned and counted.
        """
        deadline = time.monotonic() + timeout
        for lane in self._lanes:
            lane.finish(deadline)
        for lane in self._lanes:
            lane.join(timeout + 2.0)
        self._records.put(None)
        if self._recorder is not None:
            self._recorder.join(timeout + 2.0)
        for channel in self.channels:
            channel.close()

    def publish(self, alerts: list[Alert]) -> None:
        """Queue committed alerts on every channel (called after the ingest commit)."""
        for lane in self._lanes:
            lane.put(alerts)

    def wait_idle(self, timeout: float) -> bool:
        """True once every channel's queue has drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lanes_idle = all(lane.idle() for lane in self._lanes)
            if lanes_idle and self._records.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def record(self, rows: list[dict[str, Any]]) -> None:
        """Queue delivery outcomes for the recorder: a channel never waits for the database
        (on SQLite the ingest writer holds its lock most of the time at high rates)."""
        if rows:
            self._records.put(rows)

    def _record_loop(self) -> None:
        while True:
            batches = take_batch(self._records)
            rows = [row for batch in batches if batch is not None for row in batch]
            self._write(rows)
            for _ in batches:
                self._records.task_done()
            if batches[-1] is None:
                return

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Store delivery outcomes; a store outage is logged (the delivery itself happened)."""
        if not rows:
            return
        try:
            with self.store.transaction() as session:
                insert_rows(session.connection(), DeliveryRow, rows)  # one statement
        except Exception as exc:
            log.warning("could not record %d deliveries: %s", len(rows), exc)


class _Lane:
    """One channel's queue and worker: deliver, retry with backoff, record the outcome."""

    def __init__(self, dispatcher: PushDispatcher, channel: AlertChannel) -> None:
        self.dispatcher = dispatcher
        self.channel = channel
        self.sent = 0
        self.failed = 0
        self.abandoned = 0
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._deadline: float | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"hub-push-{self.channel.name}", daemon=True
        )
        self._thread.start()

    def put(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self._queue.put(alert)

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def finish(self, deadline: float) -> None:
        self._deadline = deadline
        self._queue.put(None)

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = take_batch(self._queue, limit=200)
            rows: list[dict[str, Any]] = []
            stop = False
            for alert in batch:
                if alert is None:
                    stop = True
                elif self._deadline is not None and time.monotonic() > self._deadline:
                    self.abandoned += 1
                else:
                    rows.append(self._deliver(alert))
            self.dispatcher.record(rows)
            for _ in batch:
                self._queue.task_done()
            if stop:
                if self.abandoned:
                    log.warning(
                        "%d alerts were stored but not pushed on %s before stop",
                        self.abandoned,
                        self.channel.name,
                    )
                return

    def _deliver(self, alert: Alert) -> dict[str, Any]:
        error = ""
        target = ""
        attempts = self.dispatcher.attempts
        for attempt in range(1, attempts + 1):
            try:
                target = self.channel.send(alert)
            except ChannelError as exc:
                error = str(exc)
                log.warning(
                    "%s delivery of %s failed (%d): %s",
                    self.channel.name,
                    alert.alert_id,
                    attempt,
                    exc,
                )
                if self._deadline is not None:
                    break  # stopping: no retries
                time.sleep(min(self.dispatcher.backoff_s * 2 ** (attempt - 1), 10.0))
                continue
            self.sent += 1
            return _row(alert, self.channel.name, target, "sent", attempt, "")
        self.failed += 1
        return _row(alert, self.channel.name, target, "failed", attempts, error)


def _row(
    alert: Alert, channel: str, target: str, status: str, attempts: int, error: str
) -> dict[str, Any]:
    """An ``alert_deliveries`` row."""
    return {
        "alert_id": alert.alert_id,
        "channel": channel,
        "target": target[:200],
        "status": status,
        "attempts": attempts,
        "last_error": error[:500],
        "updated_at": utc_now(),
    }
