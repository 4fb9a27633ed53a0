"""The region risk list: regions (GB/T 2260 codes) with a level, each in force for a window.

Read from CSV (``region_code,name,level,valid_from,valid_to``; dates ISO), imported into
``risk_regions`` replacing the previous list (``gridgate-hub risk import FILE`` again reloads
it). A report's risk is the highest level of the regions visited that was in force in the
seven days before arrival.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from hub.store.report_tables import RiskRegionRow

COLUMNS = ("region_code", "name", "level", "valid_from", "valid_to")
LOOKBACK = timedelta(days=7)
MAX_REGIONS = 5000


class RiskLevel(StrEnum):
    """A region's level; ``none`` for a report that visited no listed region."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


_RANK = {RiskLevel.NONE: 0, RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}


class RiskListError(ValueError):
    """A risk list that cannot be imported; the message names the line."""


@dataclass(frozen=True)
class RiskRegion:
    """One region of the list."""

    region_code: str
    name: str
    level: RiskLevel
    valid_from: date
    valid_to: date


def parse_risk_csv(text: str) -> list[RiskRegion]:
    """Every row of a risk-list CSV (header required), or :class:`RiskListError`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise RiskListError(f"the header must be {','.join(COLUMNS)}")
    regions: list[RiskRegion] = []
    for line, row in enumerate(reader, start=2):
        if len(regions) >= MAX_REGIONS:
            raise RiskListError(f"more than {MAX_REGIONS} regions")
        try:
            region = RiskRegion(
                region_code=_code(row["region_code"]),
                name=row["name"].strip()[:100],
                level=RiskLevel(row["level"].strip().lower()),
                valid_from=date.fromisoformat(row["valid_from"].strip()),
                valid_to=date.fromisoformat(row["valid_to"].strip()),
            )
        except (ValueError, AttributeError) as exc:
            raise RiskListError(f"line {line}: {exc}") from None
        if region.level is RiskLevel.NONE or not region.name:
            raise RiskListError(f"line {line}: a name and a level high/medium/low are required")
        if region.valid_to < region.valid_from:
            raise RiskListError(f"line {line}: valid_to is before valid_from")
        regions.append(region)
    return regions


def _code(value: str) -> str:
    code = value.strip()
    if not (code.isascii() and code.isalnum() and 1 <= len(code) <= 32):
        raise ValueError(f"bad region code {value!r}")
    return code


def read_risk_file(path: Path) -> list[RiskRegion]:
    """:func:`parse_risk_csv` of a file."""
    return parse_risk_csv(path.read_text(encoding="utf-8"))


def import_risk_list(session: Session, regions: Iterable[RiskRegion]) -> int:
    """Replace the stored list with ``regions``; how many were stored."""
    rows = [
        {
            "region_code": r.region_code,
            "name": r.name,
            "level": str(r.level),
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
        }
        for r in regions
    ]
    session.execute(delete(RiskRegionRow))
    if rows:
        session.execute(insert(RiskRegionRow), rows)
    return len(rows)


def regions_for(session: Session, day: date) -> list[RiskRegion]:
    """Regions in force at some time in the seven days up to ``day``, one per code (the
    highest level), by code: what a reporter arriving on ``day`` picks from."""
    stmt = select(RiskRegionRow).where(
        RiskRegionRow.valid_from <= day, RiskRegionRow.valid_to >= day - LOOKBACK
    )
    best: dict[str, RiskRegion] = {}
    for row in session.scalars(stmt):
        region = RiskRegion(
            row.region_code, row.name, RiskLevel(row.level), row.valid_from, row.valid_to
        )
        known = best.get(region.region_code)
        if known is None or _RANK[region.level] > _RANK[known.level]:
            best[region.region_code] = region
    return [best[code] for code in sorted(best)]


def highest(levels: Iterable[RiskLevel]) -> RiskLevel:
    """The highest of ``levels`` (``none`` when empty)."""
    return max(levels, key=_RANK.__getitem__, default=RiskLevel.NONE)
