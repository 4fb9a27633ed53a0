"""Recording what a grid worker found on a task."""

from __future__ import annotations

from datetime import datetime

from hub.store.task_tables import TaskRow
from hub.tasks.kinds import TaskResult

NOTE_CHARS = 1000


def record_result(
    task: TaskRow, actor: str, result: TaskResult, now: datetime, note: str = ""
) -> None:
    """Mark ``task`` done with ``result``; recording again replaces the earlier result."""
    task.status = "done"
    task.result = str(result)
    task.note = note[:NOTE_CHARS]
    task.done_at, task.done_by = now, actor
