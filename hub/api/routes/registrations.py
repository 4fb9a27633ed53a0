"""Kiosk self-registrations: list pending ones, approve or reject (grid workers: their grids)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from hub.api.deps import StaffDep, StoreDep
from hub.registrations.desk import RegistrationDesk
from hub.registrations.repository import DecisionError, RegistrationState, list_registrations
from hub.store.registration_tables import RegistrationRow

router = APIRouter(prefix="/api/registrations", tags=["registrations"])


def get_desk(request: Request) -> RegistrationDesk:
    """The hub's registration desk (503 when this process has none)."""
    desk: RegistrationDesk | None = getattr(request.app.state, "registrations", None)
    if desk is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "registrations are not served")
    return desk


DeskDep = Annotated[RegistrationDesk, Depends(get_desk)]


class Registration(BaseModel):
    """A self-registration as reviewers see it (never the face encoding)."""

    request_id: uuid.UUID
    device_id: str
    site_id: str
    address_code: str
    address_known: bool
    grid_id: str | None
    name_masked: str
    code_colour: str | None
    face_quality: float
    consent_version: str
    consent_at: datetime
    created_at: datetime
    received_at: datetime
    state: RegistrationState
    resident_id: str | None
    decided_by: str | None
    decided_at: datetime | None
    note: str


class Decision(BaseModel):
    """A reviewer's note on approving or rejecting."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=1000, title="Note", description="Why, for the audit.")


def _view(row: RegistrationRow) -> Registration:
    return Registration.model_validate(row, from_attributes=True)


@router.get("", response_model=list[Registration])
def list_pending(
    caller: StaffDep,
    store: StoreDep,
    state: Annotated[
        RegistrationState | None, Query(description="pending (default), approved or rejected")
    ] = RegistrationState.PENDING,
) -> list[Registration]:
    """Requests in ``state``, oldest first; grid workers see their grids' addresses only."""
    with store.sessions() as session:
        return [_view(row) for row in list_registrations(session, state, caller.grids)]


def _decide(
    approving: bool, request_id: uuid.UUID, body: Decision, caller: StaffDep, desk: RegistrationDesk
) -> Registration:
    decide = desk.approve if approving else desk.reject
    try:
        row = decide(request_id, caller.username, body.note, caller.grids)
    except DecisionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no registration {request_id}")
    return _view(row)


@router.post("/{request_id}/approve", response_model=Registration)
def approve(
    request_id: uuid.UUID, caller: StaffDep, desk: DeskDep, body: Decision | None = None
) -> Registration:
    """Approve: the resident is added (or moved) to the address and their face enrolled."""
    return _decide(True, request_id, body or Decision(), caller, desk)


@router.post("/{request_id}/reject", response_model=Registration)
def reject(
    request_id: uuid.UUID, caller: StaffDep, desk: DeskDep, body: Decision | None = None
) -> Registration:
    """Reject: the request is kept for the audit, its face encoding is deleted."""
    return _decide(False, request_id, body or Decision(), caller, desk)
