"""The daily close-out per grid: households, people reached, alerts, tasks; as rows and files."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from openpyxl import Workbook  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hub.store.alert_tables import AlertRow
from hub.store.ledger_tables import AddressRow, GridRow, HouseholdRow
from hub.store.task_tables import TaskRow


class CloseOut(BaseModel):
    """One grid on one day."""

    model_config = ConfigDict(frozen=True)

    day: date
    grid_id: str
    grid_name: str
    households: int
    occupied: int
    vacant: int
    reached: int
    away: int
    unreachable: int
    alerts_opened: int
    alerts_closed: int
    tasks: int
    tasks_done: int


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC-aware start and end of ``day`` in the hub's time zone."""
    start = datetime.combine(day, time(), tz)
    return start, start + timedelta(days=1)


def close_out(
    session: Session, day: date, tz: ZoneInfo, grids: frozenset[str] | None = None
) -> list[CloseOut]:
    """One row per grid (only ``grids`` when given), by grid id."""
    start, end = day_bounds(day, tz)
    households = _grouped(
        session,
        select(
            AddressRow.grid_id,
            func.count(),
            func.sum(case((HouseholdRow.state == "occupied", 1), else_=0)),
            func.sum(case((HouseholdRow.state == "vacant", 1), else_=0)),
        )
        .join(HouseholdRow, HouseholdRow.address_code == AddressRow.address_code)
        .group_by(AddressRow.grid_id),
    )
    tasks = _grouped(
        session,
        select(
            TaskRow.grid_id,
            *(
                func.sum(case((TaskRow.result == r, 1), else_=0))
                for r in ("reached", "away", "unreachable")
            ),
            func.count(),
            func.sum(case((TaskRow.status == "done", 1), else_=0)),
        )
        .where(TaskRow.day == day)
        .group_by(TaskRow.grid_id),
    )
    opened = _grouped(
        session,
        select(AlertRow.grid_id, func.count())
        .where(AlertRow.raised_at >= start, AlertRow.raised_at < end)
        .group_by(AlertRow.grid_id),
    )
    closed = _grouped(
        session,
        select(AlertRow.grid_id, func.count())
        .where(AlertRow.resolved_at >= start, AlertRow.resolved_at < end)
        .group_by(AlertRow.grid_id),
    )
    rows = []
    for grid_id, name in session.execute(
        select(GridRow.grid_id, GridRow.name).order_by(GridRow.grid_id)
    ).all():
        if grids is not None and grid_id not in grids:
            continue
        occupied_total = households.get(grid_id, (0, 0, 0))
        reached, away, unreachable, total, done = tasks.get(grid_id, (0, 0, 0, 0, 0))
        rows.append(
            CloseOut(
                day=day,
                grid_id=grid_id,
                grid_name=name,
                households=occupied_total[0],
                occupied=occupied_total[1],
                vacant=occupied_total[2],
                reached=reached,
                away=away,
                unreachable=unreachable,
                alerts_opened=opened.get(grid_id, (0,))[0],
                alerts_closed=closed.get(grid_id, (0,))[0],
                tasks=total,
                tasks_done=done,
            )
        )
    return rows


def _grouped(session: Session, stmt: object) -> dict[str, tuple[int, ...]]:
    return {
        row[0]: tuple(int(v or 0) for v in row[1:])
        for row in session.execute(stmt)  # type: ignore[call-overload]
    }


COLUMNS = list(CloseOut.model_fields)


def to_csv(rows: list[CloseOut]) -> str:
    """CSV with a header row (UTF-8; Excel users: open with BOM-aware import or use XLSX)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: str(v) for k, v in row.model_dump().items()})
    return out.getvalue()


def to_xlsx(rows: list[CloseOut]) -> bytes:
    """An XLSX workbook with one sheet, ``close-out``."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "close-out"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(
            [v.isoformat() if isinstance(v, date) else v for v in row.model_dump().values()]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
