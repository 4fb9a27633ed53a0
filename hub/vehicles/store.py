"""Vehicle and occupant rows: written in the event's transaction, read for the API."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, insert, select
from sqlalchemy.orm import Session

from hub.store.vehicle_tables import OccupantRow, VehicleRow
from hub.vehicles.drafts import CheckedOccupant
from models.events import PassageEvent
from models.vehicles import VehicleCheck, normalise_plate


@dataclass(frozen=True)
class CheckedVehicle:
    """A vehicle event with each occupant resolved against the ledger."""

    event: PassageEvent
    vehicle: VehicleCheck
    occupants: list[CheckedOccupant]


def insert_vehicles(session: Session, checked: Sequence[CheckedVehicle]) -> None:
    """Write the vehicles and their occupants (two multi-row inserts)."""
    if not checked:
        return
    session.execute(insert(VehicleRow), [_vehicle_row(c) for c in checked])
    session.execute(
        insert(OccupantRow),
        [_occupant_row(c.event.event_id, o) for c in checked for o in c.occupants],
    )


def _vehicle_row(checked: CheckedVehicle) -> dict[str, Any]:
    event, vehicle = checked.event, checked.vehicle
    return {
        "event_id": event.event_id,
        "site_id": event.site_id,
        "gate_id": event.gate_id,
        "device_id": event.device_id,
        "lane": vehicle.lane,
        "plate": vehicle.plate,
        "plate_kind": str(vehicle.plate_kind),
        "direction": str(event.direction),
        "opened_at": vehicle.opened_at,
        "occurred_at": event.occurred_at,
        "passed": vehicle.passed,
        "reasons": list(event.decision.reasons),
        "occupant_count": len(vehicle.occupants),
    }


def _occupant_row(event_id: uuid.UUID, checked: CheckedOccupant) -> dict[str, Any]:
    occupant, code = checked.occupant, checked.occupant.health_code
    return {
        "event_id": event_id,
        "position": checked.position,
        "seat": occupant.seat,
        "holder_ref": code.holder_ref if code else None,
        "id_ref": occupant.id_ref,
        "id_masked": occupant.id_masked,
        "colour": str(code.colour) if code and code.colour else None,
        "status": str(code.status) if code else None,
        "reason_codes": [str(r) for r in code.reason_codes] if code else [],
        "destination": occupant.destination,
        "destination_code": occupant.destination_address_code,
        "address_code": checked.destination.address_code if checked.destination else None,
        "grid_id": checked.bound_grid,
        "resident_id": checked.resident.resident_id if checked.resident else None,
        "passed": occupant.passed,
        "reasons": list(occupant.reasons),
    }


@dataclass(frozen=True)
class VehicleQuery:
    """Filters of the vehicle list; None: any."""

    plate: str | None = None
    """Part of the plate, in any typed form (粤b·d123)."""
    site_id: str | None = None
    held: bool | None = None
    since: datetime | None = None


def _visible(grids: Collection[str]) -> Any:
    """Vehicles with an occupant bound for one of ``grids``."""
    return exists().where(
        OccupantRow.event_id == VehicleRow.event_id, OccupantRow.grid_id.in_(grids)
    )


def _filtered(query: VehicleQuery, grids: Collection[str] | None) -> Select[VehicleRow]:
    stmt = select(VehicleRow)
    if query.plate:
        stmt = stmt.where(VehicleRow.plate.contains(normalise_plate(query.plate), autoescape=True))
    if query.site_id is not None:
        stmt = stmt.where(VehicleRow.site_id == query.site_id)
    if query.held is not None:
        stmt = stmt.where(VehicleRow.passed.is_(not query.held))
    if query.since is not None:
        stmt = stmt.where(VehicleRow.occurred_at >= query.since)
    if grids is not None:
        stmt = stmt.where(_visible(grids))
    return stmt


def list_vehicles(
    session: Session,
    query: VehicleQuery,
    grids: Collection[str] | None,
    *,
    limit: int,
    offset: int = 0,
) -> tuple[int, list[VehicleRow]]:
    """How many vehicles match, and one page of them, newest first.

    ``grids``: only vehicles with an occupant bound for these grids (None: every vehicle).
    """
    stmt = _filtered(query, grids)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(VehicleRow.occurred_at.desc(), VehicleRow.event_id.desc())
    return total, list(session.scalars(page.limit(limit).offset(offset)))


def vehicle_with_occupants(
    session: Session, event_id: uuid.UUID, grids: Collection[str] | None
) -> tuple[VehicleRow, list[OccupantRow]] | None:
    """A vehicle and its occupants in seat order; ``grids``: only occupants bound there.

    None when there is no such vehicle, or none of its occupants is bound for ``grids``.
    """
    vehicle = session.get(VehicleRow, event_id)
    if vehicle is None:
        return None
    stmt = select(OccupantRow).where(OccupantRow.event_id == event_id)
    if grids is not None:
        stmt = stmt.where(OccupantRow.grid_id.in_(grids))
    occupants = list(session.scalars(stmt.order_by(OccupantRow.seat, OccupantRow.position)))
    if grids is not None and not occupants:
        return None
    return vehicle, occupants
