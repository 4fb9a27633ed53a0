"""The day's check lists generated on the hub's timer, once per local day."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy.orm import Session

from hub.alerts.escalation import DailyCheck
from hub.tasks.generate import generate_tasks

log = logging.getLogger(__name__)


class DailyTasks(DailyCheck):
    """An escalation-timer check that generates the local day's tasks at its first tick of
    the day, in the timer's transaction; generating is idempotent (a restart, or the
    dashboard's button, adds only what is new). After a failure it tries again in an hour."""

    def run_daily(self, session: Session, now: datetime, today: date) -> None:
        """Generate today's tasks."""
        added = generate_tasks(session, today, now)
        log.info("generated the tasks of %s: %s", today, dict(added) or "nothing new")
