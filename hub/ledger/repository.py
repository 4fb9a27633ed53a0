"""Ledger reads and idempotent upserts by natural key, in the caller's session.

An upsert compares each row with what is stored and writes only what differs, so loading
the same data twice changes nothing (``updated_at`` included) and the counts say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.ledger.bulk import insert_many, stored_values
from hub.store.ledger_tables import (
    AddressRow,
    GateRow,
    GridRow,
    GridWorkerRow,
    GroupRow,
    HouseholdRow,
    ResidentRow,
    SiteRow,
    VehiclePlateRow,
    group_members,
    worker_grids,
)
from models.base import utc_now
from models.ledger import Address, Grid, GridWorker, Group, HouseholdState, Resident

Values = dict[str, Any]

ADDRESS_DATA = ("street", "number", "building", "unit", "room", "grid_id")
"""Address columns besides its code."""

RESIDENT_DATA = (
    "id_masked",
    "name",
    "phone",
    "address_code",
    "role",
    "quarantine_until",
    "key_area_returnee",
    "code_colour",
    "last_test_at",
)
"""Resident columns an import sets (``resident_id``, ``face_enrolled`` and times excluded)."""

LEDGER_ROWS: tuple[type[Any], ...] = (
    GridRow,
    GridWorkerRow,
    SiteRow,
    GateRow,
    AddressRow,
    HouseholdRow,
    ResidentRow,
    VehiclePlateRow,
    GroupRow,
)
"""The ledger's ORM classes, parents first."""

QUERY_CHUNK = 5000
"""Keys per ``IN (...)`` query."""


def table(row_class: Any) -> Table:
    """The Core table of an ORM class."""
    result = row_class.__table__
    assert isinstance(result, Table)
    return result


@dataclass
class UpsertCounts:
    """What an upsert did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def _chunks(items: Sequence[Any], size: int = QUERY_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert(
    session: Session,
    target: Table,
    key: str,
    rows: Sequence[Values],
    compare: Sequence[str],
    *,
    on_insert: Mapping[str, Any] | None = None,
    on_change: Mapping[str, Any] | None = None,
    new_keys: bool = False,
) -> UpsertCounts:
    """Insert rows whose ``key`` is new, update those whose ``compare`` columns differ.

    ``on_insert`` values are added to new rows, ``on_change`` values to new and changed ones.
    Rows must have unique keys and carry ``key`` and every ``compare`` column.
    ``new_keys`` says the keys are most likely not stored (a first import): PostgreSQL then
    inserts them without looking them up, in a savepoint; if one is stored after all (a
    unique violation), the savepoint is rolled back and the rows take the usual way.
    """
    counts = UpsertCounts()
    if not rows:
        return counts
    constants = {**(on_insert or {}), **(on_change or {})}
    if new_keys and _inserted_as_new(session, target, key, rows, constants):
        counts.inserted = len(rows)
        return counts
    stored = stored_values(session, target, key, compare, [row[key] for row in rows])
    fresh: list[Values] = []
    changed: list[Values] = []
    current = _tuple_getter(compare)
    for row in rows:
        before = stored.get(row[key])
        if before is None:
            fresh.append(row)
        elif before != current(row):
            values = {name: row[name] for name in compare}
            changed.append({"_key": row[key], **values, **(on_change or {})})
        else:
            counts.unchanged += 1
    if fresh:
        fresh.sort(key=itemgetter(key))  # neighbouring keys: fewer index pages touched
        insert_many(session, target, fresh, constants)
        counts.inserted = len(fresh)
    if changed:
        statement = update(target).where(target.c[key] == bindparam("_key"))
        session.execute(statement.execution_options(synchronize_session=False), changed)
        counts.updated = len(changed)
    return counts


def _inserted_as_new(
    session: Session,
    target: Table,
    key: str,
    rows: Sequence[Values],
    constants: Mapping[str, Any],
) -> bool:
    """INSERT ``rows`` without looking their keys up (PostgreSQL only, in a savepoint);
    False, with nothing written, when another dialect or a key is already stored."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        return False  # pysqlite's savepoints are not reliable inside SQLAlchemy's transaction
    try:
        with session.begin_nested():
            insert_many(session, target, sorted(rows, key=itemgetter(key)), constants)
    except (IntegrityError, dialect.loaded_dbapi.IntegrityError):  # COPY raises the driver's
        return False
    return True


def _tuple_getter(names: Sequence[str]) -> Callable[[Values], tuple[Any, ...]]:
    """``row`` → the tuple of its ``names`` values."""
    if len(names) > 1:
        return itemgetter(*names)
    return lambda row: tuple(row[name] for name in names)


def existing_keys(session: Session, column: Any, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are stored in ``column``."""
    return set(stored_values(session, column.table, column.name, (), keys))


def replace_links(
    session: Session, link: Table, owner: str, other: str, wanted: Mapping[str, set[str]]
) -> int:
    """Make ``link`` hold exactly ``wanted[owner_id]`` for each owner given; rows changed."""
    if not wanted:
        return 0
    current: dict[str, set[str]] = {key: set() for key in wanted}
    for chunk in _chunks(list(wanted)):
        query = select(link.c[owner], link.c[other]).where(link.c[owner].in_(chunk))
        for owner_id, other_id in session.execute(query):
            current[owner_id].add(other_id)
    adds = [{owner: o, other: x} for o, xs in wanted.items() for x in sorted(xs - current[o])]
    drops = [(o, x) for o, xs in current.items() for x in sorted(xs - wanted[o])]
    if adds:
        session.execute(insert(link), adds)
    for chunk in _chunks(drops):
        session.execute(delete(link).where(tuple_(link.c[owner], link.c[other]).in_(chunk)))
    return len(adds) + len(drops)


def upsert_plates(session: Session, plates: Mapping[str, str]) -> UpsertCounts:
    """Register plates (plate → resident id); a plate moves to its new holder."""
    rows = [{"plate": plate, "resident_id": rid} for plate, rid in plates.items()]
    return upsert(session, table(VehiclePlateRow), "plate", rows, ["resident_id"])


def mark_occupied(session: Session, address_codes: Iterable[str]) -> None:
    """Addresses with residents: a missing or ``unknown`` household becomes ``occupied``."""
    codes = sorted(set(address_codes))
    households = table(HouseholdRow)
    known = stored_values(session, households, "address_code", ["state"], codes)
    fresh = [{"address_code": code, "state": "occupied"} for code in codes if code not in known]
    insert_many(session, households, fresh)
    unknown = [code for code in codes if known.get(code) == (HouseholdState.UNKNOWN,)]
    for chunk in _chunks(unknown):
        session.execute(
            update(households)
            .where(households.c.address_code.in_(chunk))
            .values(state=HouseholdState.OCCUPIED.value)
        )


class LedgerRepository:
    """Typed upserts and reads over one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_grids(self, grids: Iterable[Grid]) -> UpsertCounts:
        """Grids by ``grid_id``."""
        rows = [grid.model_dump() for grid in grids]
        compare = ["name", "community", "leader_worker_id"]
        return upsert(self.session, table(GridRow), "grid_id", rows, compare)

    def upsert_workers(
        self, workers: Iterable[GridWorker], channels: Mapping[str, dict[str, str]] | None = None
    ) -> UpsertCounts:
        """Workers by ``worker_id``, and exactly their listed grids (which must exist)."""
        rows: list[Values] = []
        links: dict[str, set[str]] = {}
        for worker in workers:
            values = worker.model_dump(exclude={"grid_ids"})
            values["channels"] = (channels or {}).get(worker.worker_id, {})
            rows.append(values)
            links[worker.worker_id] = set(worker.grid_ids)
        compare = ["name", "phone", "channels", "on_duty"]
        counts = upsert(self.session, table(GridWorkerRow), "worker_id", rows, compare)
        replace_links(self.session, worker_grids, "worker_id", "grid_id", links)
        return counts

    def upsert_sites(self, sites: Iterable[Values]) -> UpsertCounts:
        """Sites by ``site_id`` (``site_id``, ``name``, ``kind``, ``grid_id``)."""
        rows = [dict(site) for site in sites]
        return upsert(self.session, table(SiteRow), "site_id", rows, ["name", "kind", "grid_id"])

    def upsert_gates(self, gates: Iterable[Values]) -> UpsertCounts:
        """Gates by ``gate_id`` (``gate_id``, ``site_id``, ``name``, ``direction``)."""
        rows = [dict(gate) for gate in gates]
        compare = ["site_id", "name", "direction"]
        return upsert(self.session, table(GateRow), "gate_id", rows, compare)

    def upsert_addresses(self, addresses: Iterable[Address]) -> UpsertCounts:
        """Addresses by ``address_code``."""
        rows = [address.model_dump() for address in addresses]
        return upsert(self.session, table(AddressRow), "address_code", rows, ADDRESS_DATA)

    def set_households(self, states: Mapping[str, HouseholdState]) -> UpsertCounts:
        """Household states by address code."""
        rows = [{"address_code": code, "state": state.value} for code, state in states.items()]
        return upsert(self.session, table(HouseholdRow), "address_code", rows, ["state"])

    def upsert_residents(self, residents: Iterable[Resident]) -> UpsertCounts:
        """Residents by ``holder_ref`` (their ``resident_id`` is kept once stored)."""
        now = utc_now()
        rows = [
            resident.model_dump(exclude={"face_enrolled"}, mode="python")
            | {"role": resident.role.value, "code_colour": _value(resident.code_colour)}
            for resident in residents
        ]
        return upsert_resident_values(self.session, rows, now)

    def upsert_group(self, group: Group) -> UpsertCounts:
        """A group by ``group_id`` and exactly its members."""
        values = group.model_dump(exclude={"member_ids"})
        counts = upsert(
            self.session, table(GroupRow), "group_id", [values], ["name", "admin_resident_id"]
        )
        links = {group.group_id: set(group.member_ids)}
        replace_links(self.session, group_members, "group_id", "resident_id", links)
        return counts

    def resident(self, resident_id: str) -> ResidentRow | None:
        """A resident by id."""
        return self.session.get(ResidentRow, resident_id)

    def resident_by_holder(self, holder_ref: str) -> ResidentRow | None:
        """A resident by holder reference."""
        query = select(ResidentRow).where(ResidentRow.holder_ref == holder_ref)
        return self.session.scalars(query).one_or_none()

    def address(self, address_code: str) -> AddressRow | None:
        """An address by code."""
        return self.session.get(AddressRow, address_code)

    def counts(self) -> dict[str, int]:
        """Rows per ledger table."""
        counts: dict[str, int] = {}
        for row_class in LEDGER_ROWS:
            target = table(row_class)
            counts[target.name] = self.session.scalar(select(func.count()).select_from(target)) or 0
        return counts


def upsert_resident_values(
    session: Session,
    rows: Sequence[Values],
    now: datetime | None = None,
    compare: Sequence[str] = RESIDENT_DATA,
    *,
    new_keys: bool = False,
) -> UpsertCounts:
    """Resident column values by ``holder_ref``; ``resident_id`` is written only on insert.

    Only the ``compare`` columns of stored residents are updated (a file without a phone
    column leaves phones alone). ``new_keys``: see :func:`upsert`.
    """
    now = now or utc_now()
    return upsert(
        session,
        table(ResidentRow),
        "holder_ref",
        rows,
        compare,
        on_insert={"created_at": now, "face_enrolled": False},
        on_change={"updated_at": now},
        new_keys=new_keys,
    )


def _value(enum: Any) -> Any:
    return None if enum is None else enum.value
