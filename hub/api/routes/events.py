"""Stored passage events and device statuses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from hub.api.deps import SessionDep, SettingsDep, require_role
from hub.api.schemas import DeviceSummary, EventSummary
from hub.auth.roles import Role
from hub.devices.fleet import lagging
from hub.faces.vault import FaceVault
from hub.store.tables import DeviceRow, EventRow
from models import DeviceStatus, Direction, PassageEvent

router = APIRouter(
    prefix="/api", tags=["events"], dependencies=[Depends(require_role(Role.ADMIN, Role.OPERATOR))]
)

MAX_LIMIT = 500


@router.get("/events", response_model=list[EventSummary])
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


@router.get("/devices", response_model=list[DeviceSummary])
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


@router.get("/devices/lagging", response_model=list[DeviceLag])
def lagging_devices(session: SessionDep, settings: SettingsDep) -> list[DeviceLag]:
    """Devices whose last status shows an older gallery or trust list than expected."""
    return [DeviceLag(**vars(lag)) for lag in lagging(session, FaceVault.for_hub(settings))]


def _status(raw: object) -> DeviceStatus | None:
    try:
        return DeviceStatus.model_validate(raw)
    except ValidationError:
        return None
