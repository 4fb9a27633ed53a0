"""The day's check lists generated on the hub's timer, once per local day."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.store.alert_tables import AlertRow
from hub.tasks.generate import generate_tasks

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(hours=1)


class DailyTasks:
    """An escalation-timer check (:data:`hub.alerts.escalation.AlertCheck`) that generates the
    local day's tasks at its first tick of the day, in the timer's transaction; generating is
    idempotent (a restart, or the dashboard's button, adds only what is new). After a failure
    it tries again in an hour."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._done: date | None = None
        self._retry_at: datetime | None = None

    def __call__(self, session: Session, now: datetime) -> list[AlertRow]:
        today = now.astimezone(self.zone).date()
        if self._done == today or (self._retry_at is not None and now < self._retry_at):
            return []
        try:
            added = generate_tasks(session, today, now)
        except Exception:
            self._retry_at = now + RETRY_AFTER
            raise
        self._done, self._retry_at = today, None
        log.info("generated the tasks of %s: %s", today, dict(added) or "nothing new")
        return []
