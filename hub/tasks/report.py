"""The daily close-out per grid and site: households, people reached, alerts, tasks; as rows
and files."""

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
from hub.store.ledger_tables import AddressRow, GridRow, HouseholdRow, SiteRow
from hub.store.task_tables import TaskRow


class CloseOut(BaseModel):
    """One grid, or one site of it (``site_id`` set), on one day.

    A site row shows its own alerts (raised or closed at that site) and its grid's
    households, people and tasks; reached / away / unreachable count each person (or, for a
    household task, each household) once, with their best result of the day.
    """

    model_config = ConfigDict(frozen=True)

    day: date
    grid_id: str
    grid_name: str
    site_id: str | None = None
    site_name: str | None = None
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


RESULTS = ("reached", "away", "unreachable")
"""Task results, best first: someone reached once today counts as reached."""


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC-aware start and end of ``day`` in the hub's time zone."""
    start = datetime.combine(day, time(), tz)
    return start, start + timedelta(days=1)


def close_out(
    session: Session, day: date, tz: ZoneInfo, grids: frozenset[str] | None = None
) -> list[CloseOut]:
    """Per grid (only ``grids`` when given, by grid id): the grid's row, then its sites' rows."""
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
            func.count(),
            func.sum(case((TaskRow.status == "done", 1), else_=0)),
        )
        .where(TaskRow.day == day)
        .group_by(TaskRow.grid_id),
    )
    people = _people_by_result(session, day)
    alerts = _alert_counts(session, start, end)
    sites: dict[str, list[tuple[str, str]]] = {}
    for site_id, site_name, grid_id in session.execute(
        select(SiteRow.site_id, SiteRow.name, SiteRow.grid_id)
        .where(SiteRow.grid_id.is_not(None))
        .order_by(SiteRow.site_id)
    ):
        sites.setdefault(grid_id or "", []).append((site_id, site_name))
    rows = []
    for grid_id, name in session.execute(
        select(GridRow.grid_id, GridRow.name).order_by(GridRow.grid_id)
    ).all():
        if grids is not None and grid_id not in grids:
            continue
        total, occupied, vacant = households.get(grid_id, (0, 0, 0))
        reached, away, unreachable = people.get(grid_id, (0, 0, 0))
        count, done = tasks.get(grid_id, (0, 0))
        shared = {
            "day": day,
            "grid_id": grid_id,
            "grid_name": name,
            "households": total,
            "occupied": occupied,
            "vacant": vacant,
            "reached": reached,
            "away": away,
            "unreachable": unreachable,
            "tasks": count,
            "tasks_done": done,
        }
        opened, closed = alerts.get(("grid", grid_id), (0, 0))
        rows.append(CloseOut(**shared, alerts_opened=opened, alerts_closed=closed))
        for site_id, site_name in sites.get(grid_id, []):
            opened, closed = alerts.get(("site", site_id), (0, 0))
            rows.append(
                CloseOut(
                    **shared,
                    site_id=site_id,
                    site_name=site_name,
                    alerts_opened=opened,
                    alerts_closed=closed,
                )
            )
    return rows


def _people_by_result(session: Session, day: date) -> dict[str, tuple[int, int, int]]:
    """Per grid: distinct people (or households, for household tasks) reached, away, unreachable."""
    best: dict[tuple[str, str], int] = {}
    for grid_id, resident_id, address_code, subject, result in session.execute(
        select(
            TaskRow.grid_id,
            TaskRow.resident_id,
            TaskRow.address_code,
            TaskRow.subject,
            TaskRow.result,
        ).where(TaskRow.day == day, TaskRow.result.in_(RESULTS))
    ):
        who = (
            f"resident:{resident_id}"
            if resident_id
            else (f"household:{address_code}" if address_code else subject)
        )
        rank = RESULTS.index(result)
        best[grid_id, who] = min(rank, best.get((grid_id, who), rank))
    counts: dict[str, list[int]] = {}
    for (grid_id, _), rank in best.items():
        counts.setdefault(grid_id, [0, 0, 0])[rank] += 1
    return {grid_id: (c[0], c[1], c[2]) for grid_id, c in counts.items()}


def _alert_counts(
    session: Session, start: datetime, end: datetime
) -> dict[tuple[str, str], tuple[int, int]]:
    """Alerts opened and closed in ``[start, end)``, keyed ("grid", id) and ("site", id)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for column, when in ((0, AlertRow.raised_at), (1, AlertRow.resolved_at)):
        for grid_id, site_id, count in session.execute(
            select(AlertRow.grid_id, AlertRow.site_id, func.count())
            .where(when >= start, when < end)
            .group_by(AlertRow.grid_id, AlertRow.site_id)
        ):
            for key in (("grid", grid_id), ("site", site_id)):
                counts.setdefault(key, [0, 0])[column] += count
    return {key: (c[0], c[1]) for key, c in counts.items()}


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
        writer.writerow({k: "" if v is None else str(v) for k, v in row.model_dump().items()})
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
