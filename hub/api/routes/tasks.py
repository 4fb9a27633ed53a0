"""Daily tasks (generate, list, record a result) and the daily close-out report."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hub.api.deps import OperatorDep, SettingsDep, StaffDep, StoreDep
from hub.store.task_tables import TaskRow
from hub.tasks.generate import generate_tasks
from hub.tasks.kinds import TaskKind, TaskResult
from hub.tasks.record import record_result
from hub.tasks.report import CloseOut, close_out, to_csv, to_xlsx
from models.base import utc_now

router = APIRouter(prefix="/api", tags=["tasks"])

DayQuery = Annotated[date | None, Query(description="YYYY-MM-DD in the hub's zone; default today.")]


class Task(BaseModel):
    """One check on one day."""

    task_id: uuid.UUID
    day: date
    kind: TaskKind
    grid_id: str
    address_code: str | None
    resident_id: str | None
    worker_id: str | None
    status: Literal["pending", "done"]
    result: TaskResult | None
    note: str
    done_by: str | None


class TaskOutcome(BaseModel):
    """What the worker found."""

    model_config = ConfigDict(extra="forbid")

    result: TaskResult = Field(title="Result", description="reached, away or unreachable")
    note: str = Field("", max_length=1000, title="Note")


class Generated(BaseModel):
    """Tasks added, per kind (already generated ones are not added again)."""

    day: date
    added: dict[str, int]


def _today(settings: SettingsDep, day: date | None) -> date:
    return day or utc_now().astimezone(settings.zone).date()


def _task(row: TaskRow) -> Task:
    return Task.model_validate(row, from_attributes=True)


@router.post("/tasks/generate", response_model=Generated)
def generate(
    caller: OperatorDep, store: StoreDep, settings: SettingsDep, day: DayQuery = None
) -> Generated:
    """Generate the day's check lists from the ledger, balanced across on-duty workers."""
    target = _today(settings, day)
    with store.transaction() as session:
        added = generate_tasks(session, target, utc_now())
    return Generated(day=target, added=dict(added))


@router.get("/tasks", response_model=list[Task])
def list_tasks(
    caller: StaffDep,
    store: StoreDep,
    settings: SettingsDep,
    day: DayQuery = None,
    mine: Annotated[bool, Query(description="Only tasks assigned to the caller.")] = False,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> list[Task]:
    """The day's tasks the caller may see (grid workers: their grids), pending first."""
    stmt = select(TaskRow).where(TaskRow.day == _today(settings, day))
    if caller.grids is not None:
        stmt = stmt.where(TaskRow.grid_id.in_(caller.grids))
    if mine:
        stmt = stmt.where(TaskRow.worker_id == caller.worker_id)
    stmt = stmt.order_by(TaskRow.status.desc(), TaskRow.address_code, TaskRow.kind).limit(limit)
    with store.sessions() as session:
        return [_task(row) for row in session.scalars(stmt)]


@router.post("/tasks/{task_id}/result", response_model=Task)
def record(task_id: uuid.UUID, body: TaskOutcome, caller: StaffDep, store: StoreDep) -> Task:
    """Record the result of a task (recording again replaces it)."""
    with store.transaction() as session:
        row = session.get(TaskRow, task_id)
        if row is None or not caller.sees_grid(row.grid_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id}")
        record_result(row, caller.username, body.result, utc_now(), body.note)
        return _task(row)


@router.get("/reports/daily", response_model=list[CloseOut])
def daily_report(
    caller: StaffDep,
    store: StoreDep,
    settings: SettingsDep,
    day: DayQuery = None,
    file_format: Annotated[
        Literal["json", "csv", "xlsx"], Query(alias="format", description="json, csv or xlsx")
    ] = "json",
) -> list[CloseOut] | Response:
    """The daily close-out per grid, each followed by its sites; ``format=csv|xlsx`` downloads
    a file."""
    target = _today(settings, day)
    with store.sessions() as session:
        rows = close_out(session, target, settings.zone, caller.grids)
    name = f"close-out-{target.isoformat()}"
    if file_format == "csv":
        return Response(
            to_csv(rows).encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if file_format == "xlsx":
        return Response(
            to_xlsx(rows),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return rows
