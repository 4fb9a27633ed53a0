"""The follow-up task of a report: one per report and day, to the grid's least-loaded worker.

A new task is one ``INSERT … RETURNING``: the worker is chosen by a subquery in the same
statement (one round trip).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from hub.ledger.repository import table
from hub.store.ledger_tables import GridWorkerRow, worker_grids
from hub.store.task_tables import TaskRow
from hub.tasks.kinds import TaskKind

KIND = str(TaskKind.REPORT_FOLLOWUP)
_LOAD = (
    select(func.count())
    .where(TaskRow.day == bindparam("b_day"), TaskRow.worker_id == GridWorkerRow.worker_id)
    .scalar_subquery()
)
_LEAST_LOADED = (
    select(GridWorkerRow.worker_id)
    .join(worker_grids, worker_grids.c.worker_id == GridWorkerRow.worker_id)
    .where(worker_grids.c.grid_id == bindparam("b_grid"), GridWorkerRow.on_duty.is_(True))
    .order_by(_LOAD, GridWorkerRow.worker_id)
    .limit(1)
)
"""The on-duty worker of the grid with the fewest tasks that day (then by id)."""
_TASKS = table(TaskRow)
_INSERT = (
    insert(_TASKS).values(worker_id=_LEAST_LOADED.scalar_subquery()).returning(_TASKS.c.worker_id)
)
"""The other columns are bound per row (a Core insert: no unit of work)."""
_NOTE = (
    update(_TASKS)
    .where(_TASKS.c.task_id == bindparam("b_task_id"))
    .values(note=bindparam("b_note"))
)
_EXISTING = select(TaskRow.task_id, TaskRow.worker_id).where(
    TaskRow.day == bindparam("day"), TaskRow.kind == KIND, TaskRow.subject == bindparam("subject")
)


@dataclass(frozen=True)
class FollowUp:
    """A report's task of one day and who has it."""

    task_id: uuid.UUID
    worker_id: str | None


def on_duty_worker(session: Session, grid_id: str, day: date) -> str | None:
    """The on-duty worker of ``grid_id`` with the fewest tasks on ``day`` (then by id)."""
    return session.scalar(_LEAST_LOADED, {"b_grid": grid_id, "b_day": day})


def followup_task(
    session: Session,
    *,
    report_id: uuid.UUID,
    day: date,
    grid_id: str,
    address_code: str | None,
    resident_id: str | None,
    note: str,
    new_report: bool = False,
) -> FollowUp:
    """The report's follow-up task of ``day``: the existing one (note updated) or a new one.

    ``new_report``: the report was just made, so it has no task yet (nothing is read).
    """
    subject = f"report:{report_id}"
    if not new_report:
        found = session.execute(_EXISTING, {"day": day, "subject": subject}).one_or_none()
        if found is not None:
            session.execute(_NOTE, {"b_task_id": found.task_id, "b_note": note})
            return FollowUp(found.task_id, found.worker_id)
    task_id = uuid.uuid4()
    worker = session.scalar(
        _INSERT,
        {
            "task_id": task_id,
            "day": day,
            "b_day": day,
            "kind": KIND,
            "b_grid": grid_id,
            "grid_id": grid_id,
            "address_code": address_code,
            "resident_id": resident_id,
            "subject": subject,
            "status": "pending",
            "note": note,
        },
    )
    return FollowUp(task_id, worker)
