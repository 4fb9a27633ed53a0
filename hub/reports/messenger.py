"""The reporter's text message, sent after the report commits on a worker thread.

Each message is retried with backoff (``ChannelError`` from the sender); the outcome
(sent, or failed with the last error, and the attempts) is stored on the report, one write
per batch of messages gathered over :data:`LINGER_S`. The report itself is already
committed: a gateway that is down never loses it. Messages still queued at
:meth:`ReportMessenger.stop` stay ``pending`` on their reports.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from sqlalchemy import update

from hub.batching import take_batch
from hub.push.base import ChannelError
from hub.push.personal import MessageSender
from hub.store.db import Store
from hub.store.report_tables import ReportRow

log = logging.getLogger(__name__)
BATCH = 500
LINGER_S = 0.2
"""How long the worker lets messages gather before a batch: one outcome write per batch."""


@dataclass(frozen=True)
class Message:
    """One text for one report's phone."""

    report_id: uuid.UUID
    phone: str
    text: str


class ReportMessenger:
    """Queues reporters' messages and delivers them in order on one daemon thread."""

    def __init__(
        self,
        store: Store,
        sender: MessageSender,
        *,
        attempts: int = 4,
        backoff_s: float = 1.0,
        writes: AbstractContextManager[object] | None = None,
    ) -> None:
        self.store, self.sender = store, sender
        self.writes = writes or nullcontext()
        self.attempts, self.backoff_s = attempts, backoff_s
        self._queue: queue.Queue[Message | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def send(self, report_id: uuid.UUID, phone: str, text: str) -> None:
        """Queue a message (the worker starts on first use)."""
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="hub-reports-sms")
                self._thread.daemon = True
                self._thread.start()
        self._queue.put(Message(report_id, phone, text))

    def wait_idle(self, timeout: float) -> bool:
        """True once every queued message was tried to the end."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop retrying, finish the message in hand and end the worker."""
        self._stopping.set()
        self._queue.put(None)
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = take_batch(self._queue, BATCH, lambda: self._stopping.wait(LINGER_S))
            outcomes = [
                self._deliver(m) for m in batch if m is not None and not self._stopping.is_set()
            ]
            self._record(outcomes)
            for _ in batch:
                self._queue.task_done()
            if batch[-1] is None:
                return

    def _deliver(self, message: Message) -> dict[str, object]:
        attempt = 0
        while True:
            attempt += 1
            try:
                self.sender.deliver(message.phone, message.text)
            except ChannelError as exc:
                log.warning("report %s: message try %d failed: %s", message.report_id, attempt, exc)
                pause = min(self.backoff_s * 2 ** (attempt - 1), 30.0)
                if attempt >= self.attempts or self._stopping.wait(pause):
                    return _outcome(message, "failed", attempt, str(exc)[:500])
                continue
            return _outcome(message, "sent", attempt, "")

    def _record(self, outcomes: list[dict[str, object]]) -> None:
        if not outcomes:
            return
        try:
            with self.writes, self.store.transaction() as session:
                session.execute(update(ReportRow), outcomes)  # bulk UPDATE by primary key
        except Exception as exc:  # the store may be down: the messages were handled
            log.warning("%d report message outcomes not stored: %s", len(outcomes), exc)


def _outcome(message: Message, status: str, attempts: int, error: str) -> dict[str, object]:
    return {
        "report_id": message.report_id,
        "message_status": status,
        "message_attempts": attempts,
        "message_error": error,
    }
