"""Stored passage events, the dashboard's passage feed and device statuses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.api.deps import SessionDep, SettingsDep, StaffDep, require_role
from hub.api.schemas import DeviceSummary, EventSummary
from hub.auth.roles import Role
from hub.devices.fleet import lagging
from hub.faces.vault import FaceVault
from hub.store.ledger_tables import ResidentRow, SiteRow
from hub.store.tables import DeviceRow, EventRow
from models import DeviceStatus, Direction, PassageEvent
from models.events import FaceDecision, FaceObservation, GateAction, HealthCodeObservation
from models.identity import mask_name

router = APIRouter(prefix="/api", tags=["events"])
OPERATORS = [Depends(require_role(Role.ADMIN, Role.OPERATOR))]

MAX_LIMIT = 500
MAX_PASSAGES = 200


@router.get("/events", response_model=list[EventSummary], dependencies=OPERATORS)
def list_events(
    session: SessionDep,
    device: Annotated[str | None, Query(max_length=64, description="Only this device.")] = None,
    site: Annotated[str | None, Query(max_length=64, description="Only this site.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many.")] = 50,
    include_payload: Annotated[
        bool, Query(description="Include the full event (observations, biometrics).")
    ] = False,
) -> list[EventSummary]:
    """The most recent events (by occurrence), newest first."""
    stmt = select(EventRow).order_by(EventRow.occurred_at.desc(), EventRow.event_id.desc())
    if device is not None:
        stmt = stmt.where(EventRow.device_id == device)
    if site is not None:
        stmt = stmt.where(EventRow.site_id == site)
    rows = session.scalars(stmt.limit(limit))
    return [
        EventSummary(
            event_id=row.event_id,
            device_id=row.device_id,
            site_id=row.site_id,
            gate_id=row.gate_id,
            direction=Direction(row.direction),
            occurred_at=row.occurred_at,
            received_at=row.received_at,
            event=PassageEvent.model_validate(row.payload) if include_payload else None,
        )
        for row in rows
    ]


class Passage(BaseModel):
    """One passage as the dashboard's feed shows it: where, when, what the gate did, whom."""

    event_id: uuid.UUID
    site_id: str
    gate_id: str
    direction: Direction
    occurred_at: datetime
    action: GateAction | None = Field(description="The gate's decision (None: unreadable).")
    reasons: list[str] = Field(description="The decision's reason keys.")
    faces: int = Field(description="Face tracks seen.")
    codes: int = Field(description="Health codes scanned.")
    resident_id: str | None = Field(
        description="The ledger resident the edge matched or the pass named."
    )
    resident: str | None = Field(description="That resident, masked: 张** 110***1234.")


@router.get("/passages", response_model=list[Passage])
def list_passages(
    caller: StaffDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PASSAGES, description="At most this many.")] = 30,
) -> list[Passage]:
    """The latest passages at the sites of the caller's grids, newest first."""
    stmt = select(EventRow).order_by(EventRow.occurred_at.desc(), EventRow.event_id.desc())
    if caller.grids is not None:
        sites = select(SiteRow.site_id).where(SiteRow.grid_id.in_(caller.grids))
        stmt = stmt.where(EventRow.site_id.in_(sites))
    rows = session.scalars(stmt.limit(limit)).all()
    events = {row.event_id: _event(row.payload) for row in rows}
    named = _residents(session, [e for e in events.values() if e is not None])
    passages = []
    for row in rows:
        event = events[row.event_id]
        who = _whom(event, named) if event is not None else None
        passages.append(
            Passage(
                event_id=row.event_id,
                site_id=row.site_id,
                gate_id=row.gate_id,
                direction=Direction(row.direction),
                occurred_at=row.occurred_at,
                action=event.decision.action if event else None,
                reasons=event.decision.reasons if event else [],
                faces=len(_faces(event)) if event else 0,
                codes=len(_codes(event)) if event else 0,
                resident_id=who.resident_id if who else None,
                resident=f"{mask_name(who.name)} {who.id_masked}" if who else None,
            )
        )
    return passages


def _event(payload: object) -> PassageEvent | None:
    try:
        return PassageEvent.model_validate(payload)
    except ValidationError:
        return None


def _faces(event: PassageEvent) -> list[FaceObservation]:
    return [o for o in event.observations if isinstance(o, FaceObservation)]


def _codes(event: PassageEvent) -> list[HealthCodeObservation]:
    return [o for o in event.observations if isinstance(o, HealthCodeObservation)]


def _residents(session: Session, events: list[PassageEvent]) -> dict[str, ResidentRow]:
    """Residents by id and by holder reference, for every face the edge knew and every pass."""
    ids = {
        f.local_match.resident_ref
        for e in events
        for f in _faces(e)
        if f.local_match.decision is FaceDecision.KNOWN and f.local_match.resident_ref
    }
    holders = {c.holder_ref for e in events for c in _codes(e) if c.holder_ref}
    found: dict[str, ResidentRow] = {}
    if ids:
        for row in session.scalars(select(ResidentRow).where(ResidentRow.resident_id.in_(ids))):
            found[row.resident_id] = row
    if holders:
        for row in session.scalars(select(ResidentRow).where(ResidentRow.holder_ref.in_(holders))):
            found[row.holder_ref] = row
    return found


def _whom(event: PassageEvent, named: dict[str, ResidentRow]) -> ResidentRow | None:
    """The first resident the passage names: a face the edge matched, else a pass's holder."""
    refs = [
        f.local_match.resident_ref
        for f in _faces(event)
        if f.local_match.decision is FaceDecision.KNOWN
    ]
    refs += [c.holder_ref for c in _codes(event)]
    return next((named[ref] for ref in refs if ref and ref in named), None)


@router.get("/devices", response_model=list[DeviceSummary], dependencies=OPERATORS)
def list_devices(
    session: SessionDep,
    site: Annotated[str | None, Query(max_length=64, description="Only this site.")] = None,
) -> list[DeviceSummary]:
    """Every device that has reported a status, by id."""
    stmt = select(DeviceRow).order_by(DeviceRow.device_id)
    if site is not None:
        stmt = stmt.where(DeviceRow.site_id == site)
    return [
        DeviceSummary(
            device_id=row.device_id,
            site_id=row.site_id,
            online=row.online,
            last_seen=row.last_seen,
            status=_status(row.last_status),
        )
        for row in session.scalars(stmt)
    ]


class DeviceLag(BaseModel):
    """A device behind on its gallery or trust list."""

    device_id: str
    site_id: str
    component: str
    has: str | None
    expected: str
    online: bool


@router.get("/devices/lagging", response_model=list[DeviceLag], dependencies=OPERATORS)
def lagging_devices(session: SessionDep, settings: SettingsDep) -> list[DeviceLag]:
    """Devices whose last status shows an older gallery or trust list than expected."""
    return [DeviceLag(**vars(lag)) for lag in lagging(session, FaceVault.for_hub(settings))]


def _status(raw: object) -> DeviceStatus | None:
    try:
        return DeviceStatus.model_validate(raw)
    except ValidationError:
        return None
