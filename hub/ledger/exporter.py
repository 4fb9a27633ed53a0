"""Export the ledger to CSV or XLSX, with the importer's Chinese headers.

Residents carry only the masked ID number (``身份证号(脱敏)``), never the number itself;
grids, workers, addresses and sites round-trip through :func:`hub.ledger.importer.import_file`.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger.kinds import LedgerKind
from hub.ledger.mapping import ALIASES
from hub.ledger.parse import CHINA_TZ
from hub.ledger.reader import CSV_SUFFIXES, XLSX_SUFFIXES, ReadError
from hub.store.db import Store
from hub.store.ledger_tables import (
    AddressRow,
    GridRow,
    GridWorkerRow,
    HouseholdRow,
    ResidentRow,
    SiteRow,
    VehiclePlateRow,
    worker_grids,
)
from models.identity import mask_name

YIELD_PER = 5000
MASKED_ID_HEADER = "身份证号(脱敏)"

FIELDS: dict[LedgerKind, tuple[str, ...]] = {
    LedgerKind.RESIDENTS: (
        "resident_id",
        "id_masked",
        "name",
        "phone",
        "address_code",
        "street",
        "number",
        "building",
        "unit",
        "room",
        "grid_id",
        "role",
        "code_colour",
        "last_test_at",
        "quarantine_until",
        "key_area_returnee",
        "plates",
    ),
    LedgerKind.ADDRESSES: (
        "address_code",
        "street",
        "number",
        "building",
        "unit",
        "room",
        "grid_id",
        "household",
    ),
    LedgerKind.GRIDS: ("grid_id", "name", "community", "leader_worker_id"),
    LedgerKind.WORKERS: ("worker_id", "name", "phone", "grid_ids", "channels", "on_duty"),
    LedgerKind.SITES: ("site_id", "name", "kind", "grid_id"),
}


def headers(kind: LedgerKind) -> list[str]:
    """Column headers of an export: the importer's first Chinese alias of each field."""
    special = {"resident_id": "居民编号", "id_masked": MASKED_ID_HEADER}
    aliases = ALIASES[kind]
    return [special.get(f) or (aliases[f][0] if f in aliases else f) for f in FIELDS[kind]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    if isinstance(value, dict):
        return ";".join(f"{key}:{item}" for key, item in value.items())
    return str(value)


def _residents(session: Session, mask_names: bool) -> Iterator[dict[str, Any]]:
    plates: dict[str, list[str]] = defaultdict(list)
    for plate, resident_id in session.execute(
        select(VehiclePlateRow.plate, VehiclePlateRow.resident_id).order_by(VehiclePlateRow.plate)
    ):
        plates[resident_id].append(plate)
    query = (
        select(ResidentRow, AddressRow)
        .outerjoin(AddressRow, AddressRow.address_code == ResidentRow.address_code)
        .order_by(ResidentRow.address_code, ResidentRow.resident_id)
        .execution_options(yield_per=YIELD_PER)
    )
    for resident, address in session.execute(query):
        row: dict[str, Any] = {f: getattr(resident, f, None) for f in FIELDS[LedgerKind.RESIDENTS]}
        for name in ("street", "number", "building", "unit", "room", "grid_id"):
            row[name] = getattr(address, name) if address is not None else None
        row["plates"] = plates.get(resident.resident_id, [])
        if mask_names:
            row["name"] = mask_name(resident.name)
        yield row


def _addresses(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(AddressRow, HouseholdRow.state)
        .outerjoin(HouseholdRow, HouseholdRow.address_code == AddressRow.address_code)
        .order_by(AddressRow.address_code)
        .execution_options(yield_per=YIELD_PER)
    )
    for address, state in session.execute(query):
        row = {f: getattr(address, f, None) for f in FIELDS[LedgerKind.ADDRESSES]}
        row["household"] = state
        yield row


def _workers(session: Session) -> Iterator[dict[str, Any]]:
    grids: dict[str, list[str]] = defaultdict(list)
    links = select(worker_grids.c.worker_id, worker_grids.c.grid_id).order_by(
        worker_grids.c.grid_id
    )
    for worker_id, grid_id in session.execute(links):
        grids[worker_id].append(grid_id)
    for worker in session.scalars(select(GridWorkerRow).order_by(GridWorkerRow.worker_id)):
        row = {f: getattr(worker, f, None) for f in FIELDS[LedgerKind.WORKERS]}
        row["grid_ids"] = grids.get(worker.worker_id, [])
        yield row


def rows(session: Session, kind: LedgerKind, *, mask_names: bool = False) -> Iterator[list[str]]:
    """The export's rows as text cells, in ``headers(kind)`` order."""
    records: Iterator[dict[str, Any]]
    if kind is LedgerKind.RESIDENTS:
        records = _residents(session, mask_names)
    elif kind is LedgerKind.ADDRESSES:
        records = _addresses(session)
    elif kind is LedgerKind.WORKERS:
        records = _workers(session)
    else:
        row_class: Any = GridRow if kind is LedgerKind.GRIDS else SiteRow
        records = (
            {f: getattr(item, f) for f in FIELDS[kind]}
            for item in session.scalars(select(row_class).order_by(*row_class.__table__.c))
        )
    for record in records:
        yield [_text(record[f]) for f in FIELDS[kind]]


def export_file(
    store: Store, kind: LedgerKind | str, path: Path, *, mask_names: bool = False
) -> int:
    """Write ``kind`` to ``path`` (.csv as UTF-8 with BOM, or .xlsx); the rows written."""
    kind = LedgerKind(kind)
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | XLSX_SUFFIXES:
        raise ReadError(f"{path.name}: unsupported file type (use .csv or .xlsx)")
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with store.sessions() as session:
        records = rows(session, kind, mask_names=mask_names)
        if suffix in CSV_SUFFIXES:
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(headers(kind))
                for record in records:
                    writer.writerow(record)
                    count += 1
            return count
        from openpyxl import Workbook  # type: ignore[import-untyped]

        book = Workbook(write_only=True)
        sheet = book.create_sheet(kind.value)
        sheet.append(headers(kind))
        for record in records:
            sheet.append(record)
            count += 1
        book.save(path)
    return count
