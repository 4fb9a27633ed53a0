"""The follow-up task of a report: one per report and day, to the grid's least-loaded worker."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.store.ledger_tables import GridWorkerRow, worker_grids
from hub.store.task_tables import TaskRow
from hub.tasks.kinds import TaskKind


def on_duty_worker(session: Session, grid_id: str, day: date) -> str | None:
    """The on-duty worker of ``grid_id`` with the fewest tasks on ``day`` (then by id)."""
    load = (
        select(func.count())
        .where(TaskRow.day == day, TaskRow.worker_id == GridWorkerRow.worker_id)
        .scalar_subquery()
    )
    stmt = (
        select(GridWorkerRow.worker_id)
        .join(worker_grids, worker_grids.c.worker_id == GridWorkerRow.worker_id)
        .where(worker_grids.c.grid_id == grid_id, GridWorkerRow.on_duty.is_(True))
        .order_by(load, GridWorkerRow.worker_id)
        .limit(1)
    )
    return session.scalar(stmt)


def followup_task(
    session: Session,
    *,
    report_id: uuid.UUID,
    day: date,
    grid_id: str,
    address_code: str | None,
    resident_id: str | None,
    note: str,
) -> TaskRow:
    """The report's follow-up task of ``day``: the existing one (note updated) or a new one."""
    subject = f"report:{report_id}"
    kind = str(TaskKind.REPORT_FOLLOWUP)
    task = session.scalars(
        select(TaskRow).where(TaskRow.day == day, TaskRow.kind == kind, TaskRow.subject == subject)
    ).one_or_none()
    if task is not None:
        task.note = note
        return task
    task = TaskRow(
        task_id=uuid.uuid4(),
        day=day,
        kind=kind,
        grid_id=grid_id,
        address_code=address_code,
        resident_id=resident_id,
        subject=subject,
        worker_id=on_duty_worker(session, grid_id, day),
        status="pending",
        note=note,
    )
    session.add(task)
    return task
