"""A timer that escalates alerts left unacknowledged too long and pushes them again, and runs
other periodic alert checks (reminders of unhandled alerts, group codes) in the same
transaction; whatever they return is pushed after the commit."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.alerts.effects import AlertSink
from hub.alerts.lifecycle import escalate_due
from hub.alerts.repository import flush_audit, to_alert
from hub.store.alert_tables import AlertRow
from hub.store.db import Store
from models.base import utc_now

logger = logging.getLogger(__name__)

AlertCheck = Callable[[Session, datetime], list[AlertRow]]
"""A periodic check that raises or reminds alerts (the timer flushes queued audit rows and
pushes the alerts returned)."""

DAILY_RETRY_AFTER = timedelta(hours=1)


class DailyCheck:
    """An :data:`AlertCheck` that runs :meth:`run_daily` at the timer's first tick of each
    local day, in the timer's transaction; after a failure it tries again in an hour."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._done: date | None = None
        self._retry_at: datetime | None = None

    def run_daily(self, session: Session, now: datetime, today: date) -> None:
        """The day's work (subclasses)."""
        raise NotImplementedError

    def __call__(self, session: Session, now: datetime) -> list[AlertRow]:
        today = now.astimezone(self.zone).date()
        if self._done == today or (self._retry_at is not None and now < self._retry_at):
            return []
        try:
            self.run_daily(session, now, today)
        except Exception:
            self._retry_at = now + DAILY_RETRY_AFTER
            raise
        self._done, self._retry_at = today, None
        return []


class Escalator:
    """Checks every ``interval_s`` for open alerts older than ``after``; escalates each once."""

    def __init__(
        self,
        store: Store,
        sink: AlertSink,
        after: timedelta,
        interval_s: float | None = None,
        extra_checks: Sequence[AlertCheck] = (),
    ) -> None:
        self.store, self.sink, self.after = store, sink, after
        self.extra_checks = list(extra_checks)
        self.interval_s = interval_s or min(60.0, max(1.0, after.total_seconds() / 4))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run in a daemon thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hub-escalator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the timer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        """Escalate what is due now and run the checks; push the alerts they return after
        commit; their number."""
        with self.store.transaction() as session:
            rows = escalate_due(session, utc_now(), self.after)
            for check in self.extra_checks:
                rows += check(session, utc_now())
            flush_audit(session)
            alerts = [to_alert(row) for row in rows]
        if alerts:
            logger.warning("escalated, reminded or raised %d alert(s) on the timer", len(alerts))
            self.sink.publish(alerts)
        return len(alerts)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # the next tick retries; a database hiccup must not end the timer
                logger.exception("escalation check failed")
