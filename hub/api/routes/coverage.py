"""Ledger coverage per grid: households, residents, faces enrolled, open alerts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import case, func, select

from hub.api.deps import StaffDep, StoreDep
from hub.store.alert_tables import AlertRow
from hub.store.ledger_tables import AddressRow, GridRow, HouseholdRow, ResidentRow
from hub.store.task_tables import TaskRow
from models.alerts import AlertState

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


@router.get("/coverage", response_model=list[GridCoverage])
def coverage(caller: StaffDep, store: StoreDep) -> list[GridCoverage]:
    """One row per grid the caller sees."""
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
                )
            )
    return rows
