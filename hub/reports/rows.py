"""The submit path's SQL, built once (each submission only binds its values): one lookup of
the person, the picked address and an earlier report of the same arrival; then the report's
insert or update. Core statements: a new report costs few round trips and no unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from hub.ledger.repository import table
from hub.store.ledger_tables import AddressRow, ResidentRow
from hub.store.report_tables import ReportRow

_SAME_REPORT = (
    ReportRow.holder_ref == bindparam("ref"),
    ReportRow.arrival_date == bindparam("day"),
)
_HOME = select(ResidentRow.address_code).where(ResidentRow.holder_ref == bindparam("ref"))
_LOOKUP = select(
    select(ResidentRow.resident_id)
    .where(ResidentRow.holder_ref == bindparam("ref"))
    .scalar_subquery()
    .label("resident_id"),
    select(AddressRow.grid_id)
    .where(AddressRow.address_code == bindparam("code"))
    .scalar_subquery()
    .label("grid_id"),
    select(AddressRow.grid_id)
    .where(AddressRow.address_code == _HOME.scalar_subquery())
    .scalar_subquery()
    .label("home_grid_id"),
    select(ReportRow.report_id).where(*_SAME_REPORT).scalar_subquery().label("report_id"),
    select(ReportRow.alert_id).where(*_SAME_REPORT).scalar_subquery().label("alert_id"),
)


@dataclass(frozen=True)
class Known:
    """What the store knows about a submission's person, address and earlier report."""

    resident_id: str | None
    grid_id: str | None
    """The picked address's grid (None: none picked, or not in the ledger)."""
    home_grid_id: str | None
    """The grid of the resident's own ledger address."""
    report_id: uuid.UUID | None
    alert_id: uuid.UUID | None


def lookup(session: Session, holder_ref: str, address_code: str | None, day: date) -> Known:
    """One round trip: resident, the picked address's grid, an earlier report of ``day``."""
    row = session.execute(_LOOKUP, {"ref": holder_ref, "code": address_code, "day": day}).one()
    return Known(row.resident_id, row.grid_id, row.home_grid_id, row.report_id, row.alert_id)


_TABLE = table(ReportRow)
_INSERT = insert(_TABLE)
_KEEP = {"health_code", "alert_id"}
"""Kept by an update unless the new submission brings a value."""
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.report_id == bindparam("b_report_id"))
    .values(
        {
            column: (
                func.coalesce(bindparam(f"b_{column.name}", type_=column.type), column)
                if column.name in _KEEP
                else bindparam(f"b_{column.name}", type_=column.type)
            )
            for column in _TABLE.c
            if column.name not in {"report_id", "submissions", "created_at"}
        }
    )
    .values(submissions=_TABLE.c.submissions + 1)
)


def save_report(
    session: Session,
    report_id: uuid.UUID,
    values: dict[str, Any],
    *,
    merged: bool,
    now: datetime,
) -> None:
    """Insert the report, or update the earlier one (one more submission; a health code and
    an alert it had stay unless this one brings new ones). ``values``: every other column."""
    if merged:
        session.execute(
            _UPDATE, {"b_report_id": report_id, **{f"b_{k}": v for k, v in values.items()}}
        )
    else:
        session.execute(
            _INSERT, {"report_id": report_id, "submissions": 1, "created_at": now, **values}
        )
