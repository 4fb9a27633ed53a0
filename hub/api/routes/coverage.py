"""Ledger coverage per grid: households, residents, faces enrolled, open alerts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import case, func, select

from hub.api.deps import SettingsDep, StaffDep, StoreDep
from hub.store.alert_tables import AlertRow
from hub.store.ledger_tables import AddressRow, GridRow, HouseholdRow, ResidentRow
from hub.store.task_tables import TaskRow
from models.alerts import AlertState
from models.base import utc_now

router = APIRouter(prefix="/api", tags=["coverage"])


class GridCoverage(BaseModel):
    """How well the ledger covers one grid."""

    grid_id: str
    name: str
    households: int
    occupied: int
    vacant: int
    residents: int
    faces_enrolled: int
    open_alerts: int
    faces_enrolled_pct: float = Field(description="Residents with an enrolled face, percent.")
    households_reached: int = Field(description="Households a worker has reached on a task.")
    households_reached_pct: float = Field(description="Of all households, percent.")
    addresses: int = Field(description="Standard addresses in the grid.")
    plates_printed: int = Field(description="Addresses whose QR door plate was printed.")
    visited_today: int = Field(description="Addresses with a task or visit done today.")
    never_visited: int = Field(description="Addresses with no task or visit ever done.")


@router.get("/coverage", response_model=list[GridCoverage])
def coverage(caller: StaffDep, store: StoreDep, settings: SettingsDep) -> list[GridCoverage]:
    """One row per grid the caller sees."""
    today = utc_now().astimezone(settings.zone).date()
    visited_ever = select(TaskRow.address_code).where(
        TaskRow.status == "done", TaskRow.address_code.is_not(None)
    )
    visited_today = visited_ever.where(TaskRow.day == today)
    addresses = select(
        AddressRow.grid_id,
        func.count(),
        func.count(AddressRow.plate_printed_at),
        func.sum(case((AddressRow.address_code.in_(visited_today), 1), else_=0)),
        func.sum(case((AddressRow.address_code.in_(visited_ever), 0), else_=1)),
    ).group_by(AddressRow.grid_id)
    households = (
        select(
            AddressRow.grid_id,
            func.count(HouseholdRow.address_code),
            func.sum(case((HouseholdRow.state == "occupied", 1), else_=0)),
            func.sum(case((HouseholdRow.state == "vacant", 1), else_=0)),
        )
        .join(HouseholdRow, HouseholdRow.address_code == AddressRow.address_code)
        .group_by(AddressRow.grid_id)
    )
    residents = (
        select(
            AddressRow.grid_id,
            func.count(ResidentRow.resident_id),
            func.sum(case((ResidentRow.face_enrolled, 1), else_=0)),
        )
        .join(ResidentRow, ResidentRow.address_code == AddressRow.address_code)
        .group_by(AddressRow.grid_id)
    )
    alerts = (
        select(AlertRow.grid_id, func.count())
        .where(AlertRow.state != str(AlertState.RESOLVED))
        .group_by(AlertRow.grid_id)
    )
    reached = (
        select(TaskRow.grid_id, func.count(func.distinct(TaskRow.address_code)))
        .where(TaskRow.result == "reached", TaskRow.address_code.is_not(None))
        .group_by(TaskRow.grid_id)
    )
    with store.sessions() as session:
        grids = session.execute(
            select(GridRow.grid_id, GridRow.name).order_by(GridRow.grid_id)
        ).all()
        by_households = {
            g: (int(n), int(o or 0), int(v or 0)) for g, n, o, v in session.execute(households)
        }
        by_residents = {g: (int(n), int(f or 0)) for g, n, f in session.execute(residents)}
        by_alerts = {g: int(n) for g, n in session.execute(alerts)}
        by_reached = {g: int(n) for g, n in session.execute(reached)}
        by_address = {
            g: (int(n), int(p or 0), int(t or 0), int(v or 0))
            for g, n, p, t, v in session.execute(addresses)
        }
        rows = []
        for grid_id, name in grids:
            if not caller.sees_grid(grid_id):
                continue
            total, occupied, vacant = by_households.get(grid_id, (0, 0, 0))
            people, faces = by_residents.get(grid_id, (0, 0))
            rows.append(
                GridCoverage(
                    grid_id=grid_id,
                    name=name,
                    households=total,
                    occupied=occupied,
                    vacant=vacant,
                    residents=people,
                    faces_enrolled=faces,
                    open_alerts=by_alerts.get(grid_id, 0),
                    faces_enrolled_pct=round(100 * faces / people, 1) if people else 0.0,
                    households_reached=by_reached.get(grid_id, 0),
                    households_reached_pct=round(100 * by_reached.get(grid_id, 0) / total, 1)
                    if total
                    else 0.0,
                    **dict(
                        zip(
                            ("addresses", "plates_printed", "visited_today", "never_visited"),
                            by_address.get(grid_id, (0, 0, 0, 0)),
                            strict=True,
                        )
                    ),
                )
            )
    return rows
