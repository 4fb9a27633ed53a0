"""Checkpoint vehicles: the list (newest first, paginated) and one vehicle with its occupants.

Operators and admins see every vehicle; grid workers see the vehicles carrying someone bound
for their grids, and of those only the occupants bound there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from hub.api.deps import SessionDep, StaffDep
from hub.store.vehicle_tables import OccupantRow, VehicleRow
from hub.vehicles.store import VehicleQuery, list_vehicles, vehicle_with_occupants

router = APIRouter(prefix="/api/vehicles", tags=["vehicles"])

MAX_LIMIT = 200


class VehicleSummary(BaseModel):
    """One vehicle as the list shows it."""

    event_id: uuid.UUID = Field(title="Event", description="The vehicle's passage event.")
    site_id: str = Field(title="Site")
    gate_id: str = Field(title="Gate")
    device_id: str = Field(title="Device")
    lane: str | None = Field(title="Lane")
    plate: str = Field(title="Plate", description="Canonical plate number.")
    plate_kind: str = Field(title="Plate kind", description="standard, new_energy, ...")
    direction: str = Field(title="Direction")
    opened_at: datetime = Field(title="Opened", description="When staff opened the vehicle.")
    occurred_at: datetime = Field(title="Closed", description="When the vehicle was closed.")
    held: bool = Field(title="Held", description="Someone in it did not pass.")
    reasons: list[str] = Field(title="Reasons", description="The checkpoint's reasons.")
    occupant_count: int = Field(title="Occupants", description="Everyone in the vehicle.")


class OccupantView(BaseModel):
    """One occupant: code, destination and ledger link (never an ID number or a hash)."""

    seat: int = Field(title="Seat")
    colour: str | None = Field(title="Code colour")
    status: str | None = Field(title="Code status", description="valid / invalid / unverified.")
    reason_codes: list[str] = Field(title="Code reasons")
    id_masked: str | None = Field(title="ID number, masked")
    destination: str | None = Field(title="Destination", description="As the person said it.")
    address_code: str | None = Field(
        title="Destination address", description="The ledger address it resolved to."
    )
    grid_id: str | None = Field(title="Grid", description="Where they are bound.")
    resident_id: str | None = Field(title="Resident", description="The ledger resident, if known.")
    passed: bool = Field(title="Passed")
    reasons: list[str] = Field(title="Reasons", description="Why not passed.")


class VehicleDetail(VehicleSummary):
    """A vehicle with the occupants the caller may see, in seat order."""

    occupants: list[OccupantView] = Field(title="Occupants")


class VehiclePage(BaseModel):
    """One page of the vehicle list."""

    total: int = Field(title="Total", description="Vehicles matching the filters.")
    items: list[VehicleSummary] = Field(title="Vehicles", description="This page, newest first.")


def _summary(row: VehicleRow) -> dict[str, object]:
    fields = VehicleSummary.model_fields.keys() - {"held"}
    return {**{name: getattr(row, name) for name in fields}, "held": not row.passed}


def _occupant(row: OccupantRow) -> OccupantView:
    return OccupantView.model_validate(row, from_attributes=True)


@router.get("", response_model=VehiclePage)
def list_all(
    caller: StaffDep,
    session: SessionDep,
    plate: Annotated[
        str | None, Query(max_length=16, description="Part of the plate, e.g. 粤B·D123.")
    ] = None,
    site: Annotated[str | None, Query(max_length=64, description="Only this site.")] = None,
    held: Annotated[bool | None, Query(description="Only held (true) or passed (false).")] = None,
    since: Annotated[datetime | None, Query(description="Closed at or after this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Vehicles to skip.")] = 0,
) -> VehiclePage:
    """Vehicles the caller may see, newest first."""
    if since is not None and since.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since needs a time zone")
    query = VehicleQuery(plate=plate, site_id=site, held=held, since=since)
    total, rows = list_vehicles(session, query, caller.grids, limit=limit, offset=offset)
    return VehiclePage(total=total, items=[VehicleSummary(**_summary(r)) for r in rows])


@router.get("/{event_id}", response_model=VehicleDetail)
def detail(event_id: uuid.UUID, caller: StaffDep, session: SessionDep) -> VehicleDetail:
    """One vehicle and the occupants the caller may see (404: none for them)."""
    found = vehicle_with_occupants(session, event_id, caller.grids)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no vehicle {event_id}")
    vehicle, occupants = found
    return VehicleDetail(**_summary(vehicle), occupants=[_occupant(o) for o in occupants])
