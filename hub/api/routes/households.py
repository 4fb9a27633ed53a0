"""The household file a door plate opens, and what a visiting grid worker records there."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hub.api.deps import SettingsDep, StaffDep, StoreDep
from hub.auth.roles import Principal
from hub.plates.household import HouseholdError, address_of, household_file, move, record_visit
from hub.store.task_tables import TaskRow
from hub.tasks.kinds import TaskResult
from models.alerts import SweepStep
from models.base import utc_now

router = APIRouter(prefix="/api/households", tags=["households"])


class Person(BaseModel):
    """A resident as the visiting worker sees them (ID number masked)."""

    resident_id: str
    name: str
    id_masked: str
    phone: str
    role: str
    code_colour: str | None
    quarantine_until: date | None
    key_area_returnee: bool
    face_enrolled: bool


class Visit(BaseModel):
    """A task or visit result at this household."""

    task_id: uuid.UUID
    kind: str
    day: date
    status: str
    result: str | None
    note: str
    done_at: datetime | None
    done_by: str | None


class OpenAlert(BaseModel):
    """An unresolved alert about someone living here."""

    alert_id: uuid.UUID
    rule: str
    state: str
    summary: str


class Household(BaseModel):
    """一户一档: the household file."""

    address_code: str
    address: str
    grid_id: str
    state: str
    residents: list[Person]
    open_tasks: list[Visit]
    open_alerts: list[OpenAlert]
    last_visits: list[Visit]


class VisitRecord(BaseModel):
    """One sweep step at the door and what it found."""

    model_config = ConfigDict(extra="forbid")

    step: SweepStep = Field(title="Step", description="door_visit, phone, joint_visit, cross_check")
    result: TaskResult = Field(title="Result", description="reached, away or unreachable")
    note: str = Field("", max_length=1000, title="Note")


def _visible(session: Session, caller: Principal, code: str) -> None:
    try:
        address = address_of(session, code)
    except HouseholdError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    if not caller.sees_grid(address.grid_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no address {code} in your grids")


def _visit(row: TaskRow) -> Visit:
    return Visit.model_validate(row, from_attributes=True)


def _file(session: Session, code: str) -> Household:
    found = household_file(session, code)
    return Household(
        address_code=found.address_code,
        address=found.address,
        grid_id=found.grid_id,
        state=found.state,
        residents=[Person.model_validate(r, from_attributes=True) for r in found.residents],
        open_tasks=[_visit(t) for t in found.open_tasks],
        open_alerts=[OpenAlert.model_validate(a, from_attributes=True) for a in found.open_alerts],
        last_visits=[_visit(t) for t in found.last_visits],
    )


@router.get("/{code}", response_model=Household)
def get_household(code: str, caller: StaffDep, store: StoreDep) -> Household:
    """The household file (grid workers: addresses in their grids)."""
    with store.sessions() as session:
        _visible(session, caller, code)
        return _file(session, code)


@router.post("/{code}/visits", response_model=Household)
def post_visit(
    code: str, body: VisitRecord, caller: StaffDep, store: StoreDep, settings: SettingsDep
) -> Household:
    """Record a visit; the updated file comes back."""
    now = utc_now()
    with store.transaction() as session:
        _visible(session, caller, code)
        record_visit(
            session,
            code,
            caller.username,
            caller.worker_id,
            body.step,
            body.result,
            now,
            now.astimezone(settings.zone).date(),
            body.note,
        )
        session.flush()
        return _file(session, code)


@router.post("/{code}/residents/{resident_id}/{direction}", response_model=Household)
def post_move(
    code: str, resident_id: str, direction: str, caller: StaffDep, store: StoreDep
) -> Household:
    """``move-in`` or ``move-out``: the ledger is updated in place, occupancy follows."""
    if direction not in ("move-in", "move-out"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "move-in or move-out")
    with store.transaction() as session:
        _visible(session, caller, code)
        try:
            move(session, code, resident_id, moving_in=direction == "move-in")
        except HouseholdError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        return _file(session, code)
