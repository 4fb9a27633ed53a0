"""Per-kind import steps: turn a validated row into column values, write a batch of them.

A batch's rows that reference something missing (an unknown grid or address) are returned
as errors and left out; the rest are upserted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from hub.ledger.idnumber import HolderHasher, mask_canonical, resident_id_for
from hub.ledger.kinds import LedgerKind
from hub.ledger.repository import (
    ADDRESS_DATA,
    RESIDENT_DATA,
    UpsertCounts,
    Values,
    existing_keys,
    mark_occupied,
    replace_links,
    table,
    upsert,
    upsert_plates,
    upsert_resident_values,
)
from hub.ledger.rows import AddressIn, GridIn, ResidentIn, RowModel, SiteIn, WorkerIn
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


@dataclass(frozen=True)
class Problem:
    """Why one row was refused: the field at fault (None: the whole row) and the reason."""

    row: int
    field: str | None
    value: str
    reason: str


@dataclass
class Flushed:
    """What writing one batch did."""

    counts: UpsertCounts = field(default_factory=UpsertCounts)
    problems: list[Problem] = field(default_factory=list)
    related: dict[str, UpsertCounts] = field(default_factory=dict)


Batch = Sequence[tuple[int, Values]]
"""``(row number, values)`` pairs."""


class Loader(Protocol):
    """One kind's import steps."""

    key_field: str
    """The row field whose value must be unique in a file."""

    bulk_tables: tuple[Table, ...]
    """The tables a first import writes (the first one empty): their foreign keys may be
    checked once at the end instead of row by row, as the loader checks the references
    itself (see :mod:`hub.store.foreign_keys`)."""

    first_import: bool
    """Set by the importer before the first batch: whether the first of ``bulk_tables`` was
    empty (the file's keys are then new, as they are unique in the file)."""

    def prepare(self, row: Any) -> Values:
        """Column values (and ``_``-prefixed extras) of a validated row."""
        ...

    def key(self, values: Values) -> str:
        """The natural key of prepared values."""
        ...

    def check(self, row: int, values: Values) -> Problem | None:
        """A conflict with an earlier row of the file beyond a repeated key (None: fine)."""
        ...

    def flush(self, session: Session, batch: Batch) -> Flushed:
        """Write a batch of prepared values."""
        ...


class _NoChecks:
    bulk_tables: tuple[Table, ...] = ()
    first_import = False

    def check(self, row: int, values: Values) -> Problem | None:
        return None


def _compare(candidates: Iterable[str], present: set[str]) -> list[str]:
    return [name for name in candidates if name in present]


class _GridCheck:
    """Known grid ids, read once per import (grids are few)."""

    def __init__(self) -> None:
        self._known: set[str] | None = None

    def unknown(self, session: Session, grid_id: str | None) -> bool:
        if grid_id is None:
            return False
        if self._known is None:
            self._known = set(session.scalars(select(GridRow.grid_id)))
        return grid_id not in self._known


def _unknown_grid(row: int, grid_id: str) -> Problem:
    return Problem(row, "grid_id", grid_id, f"unknown grid {grid_id!r}")


class ResidentLoader:
    """Residents by holder reference; a row may also define its address and plates."""

    key_field = "id_number"
    bulk_tables: tuple[Table, ...] = tuple(
        map(table, (ResidentRow, HouseholdRow, AddressRow, VehiclePlateRow))
    )

    def __init__(self, key: bytes, present: set[str]) -> None:
        self.hasher = HolderHasher(key)
        self.present = present
        self.compare = ["id_masked", *_compare(RESIDENT_DATA, present)]
        if "name" not in self.compare:
            self.compare.append("name")
        self.grids = _GridCheck()
        self.plates: dict[str, int] = {}
        """Row of the first resident each plate was listed for."""
        self.addresses: dict[str, tuple[str, ...]] = {}
        """Addresses known to exist, with the definition this file gave first (or ())."""
        self.first_import = False
        """See :class:`Loader`; cleared once a batch finds a key already stored."""

    def prepare(self, row: ResidentIn | Mapping[str, Any]) -> Values:
        """Values of a validated row or of its field values (see :mod:`hub.ledger.fastrow`)."""
        f = row if type(row) is dict or isinstance(row, Mapping) else vars(row)
        ref = self.hasher.canonical(f["id_number"])
        code, street, grid, colour = f["address_code"], f["street"], f["grid_id"], f["code_colour"]
        address = None
        if code and street and grid:
            address = (street, f["number"], f["building"], f["unit"], f["room"], grid)
        return {
            "holder_ref": ref,
            "resident_id": resident_id_for(ref),
            "id_masked": mask_canonical(f["id_number"]),
            "name": f["name"],
            "phone": f["phone"],
            "address_code": code,
            "role": f["role"].value,
            "quarantine_until": f["quarantine_until"],
            "key_area_returnee": f["key_area_returnee"],
            "code_colour": None if colour is None else colour.value,
            "last_test_at": f["last_test_at"],
            "_grid": grid,
            "_plates": f["plates"],
            "_address": address,
        }

    def key(self, values: Values) -> str:
        return str(values["holder_ref"])

    def check(self, row: int, values: Values) -> Problem | None:
        for plate in values["_plates"]:
            first = self.plates.setdefault(plate, row)
            if first != row:
                return Problem(row, "plates", plate, f"plate also listed on row {first}")
        return None

    def flush(self, session: Session, batch: Batch) -> Flushed:
        result = Flushed()
        good = self._known_grids(session, batch, result.problems)
        result.related["addresses"] = self._define_addresses(session, good)
        unknown = self._unknown_addresses(session, good)
        rows: list[Values] = [values for _, values in good]
        if unknown:
            rows = []
            for number, values in good:
                code = values["address_code"]
                if code in unknown:
                    result.problems.append(Problem(number, "address_code", code, "unknown address"))
                else:
                    rows.append(values)  # the "_" extras are not columns: never written
        result.counts = upsert_resident_values(
            session, rows, compare=self.compare, new_keys=self.first_import
        )
        self.first_import = self.first_import and result.counts.inserted == len(rows)
        plates = {plate: values["resident_id"] for values in rows for plate in values["_plates"]}
        if plates:
            result.related["plates"] = upsert_plates(session, plates)
        mark_occupied(session, {row["address_code"] for row in rows if row["address_code"]})
        return result

    def _known_grids(self, session: Session, batch: Batch, problems: list[Problem]) -> Batch:
        """The rows whose grid is known (or not given); the others become problems."""
        unknown = {g for g in {v["_grid"] for _, v in batch} if self.grids.unknown(session, g)}
        if not unknown:
            return batch
        good: list[tuple[int, Values]] = []
        for number, values in batch:
            grid = values["_grid"]
            if grid in unknown:
                problems.append(_unknown_grid(number, grid))
            else:
                good.append((number, values))
        return good

    def _define_addresses(self, session: Session, batch: Batch) -> UpsertCounts:
        fresh: dict[str, tuple[str, ...]] = {}
        for _, values in batch:
            code, definition = values["address_code"], values["_address"]
            if definition and code not in self.addresses and code not in fresh:
                fresh[code] = definition
        self.addresses.update(fresh)
        names = ("address_code", *ADDRESS_DATA)
        rows = [dict(zip(names, (code, *d), strict=True)) for code, d in fresh.items()]
        compare = _compare(ADDRESS_DATA, self.present | {"grid_id", "street"})
        return upsert(session, table(AddressRow), "address_code", rows, compare)

    def _unknown_addresses(self, session: Session, batch: Batch) -> set[str]:
        known = self.addresses
        wanted = {v["address_code"] for _, v in batch if v["address_code"] not in known} - {None}
        found = existing_keys(session, table(AddressRow).c.address_code, wanted)
        self.addresses.update(dict.fromkeys(found, ()))
        return wanted - found


class AddressLoader(_NoChecks):
    """Addresses by code, with their household state when the file gives one."""

    key_field = "address_code"
    bulk_tables: tuple[Table, ...] = (table(AddressRow), table(HouseholdRow))

    def __init__(self, present: set[str]) -> None:
        self.compare = _compare(ADDRESS_DATA, present | {"street", "grid_id"})
        self.grids = _GridCheck()

    def prepare(self, row: AddressIn) -> Values:
        household = None if row.household is None else row.household.value
        return row.model_dump(exclude={"household"}) | {"_household": household}

    def key(self, values: Values) -> str:
        return str(values["address_code"])

    def flush(self, session: Session, batch: Batch) -> Flushed:
        result = Flushed()
        rows: list[Values] = []
        for number, values in batch:
            if self.grids.unknown(session, values["grid_id"]):
                result.problems.append(_unknown_grid(number, values["grid_id"]))
            else:
                rows.append(values)
        result.counts = upsert(session, table(AddressRow), "address_code", rows, self.compare)
        households = [
            {"address_code": row["address_code"], "state": row["_household"]}
            for row in rows
            if row["_household"]
        ]
        result.related["households"] = upsert(
            session, table(HouseholdRow), "address_code", households, ["state"]
        )
        return result


class SimpleLoader(_NoChecks):
    """Grids, workers or sites: one table by id, optional grid references checked."""

    def __init__(self, kind: LedgerKind, present: set[str]) -> None:
        self.kind = kind
        self.present = present
        specs = {
            LedgerKind.GRIDS: (GridRow, "grid_id", ("name", "community", "leader_worker_id")),
            LedgerKind.WORKERS: (
                GridWorkerRow,
                "worker_id",
                ("name", "phone", "channels", "on_duty"),
            ),
            LedgerKind.SITES: (SiteRow, "site_id", ("name", "kind", "grid_id")),
        }
        row_class, self.key_field, compare = specs[kind]
        self.table = table(row_class)
        self.compare = _compare(compare, present | {"name"})
        self.grids = _GridCheck()

    def prepare(self, row: GridIn | WorkerIn | SiteIn) -> Values:
        return row.model_dump()

    def key(self, values: Values) -> str:
        return str(values[self.key_field])

    def _grid_refs(self, values: Values) -> list[str]:
        if self.kind is LedgerKind.WORKERS:
            return list(values["grid_ids"])
        if self.kind is LedgerKind.SITES and values["grid_id"]:
            return [values["grid_id"]]
        return []

    def flush(self, session: Session, batch: Batch) -> Flushed:
        result = Flushed()
        rows: list[Values] = []
        for number, values in batch:
            missing = [g for g in self._grid_refs(values) if self.grids.unknown(session, g)]
            field_name = "grid_ids" if self.kind is LedgerKind.WORKERS else "grid_id"
            result.problems.extend(
                Problem(number, field_name, g, f"unknown grid {g!r}") for g in missing
            )
            if not missing:
                rows.append(values)
        result.counts = upsert(session, self.table, self.key_field, rows, self.compare)
        if self.kind is LedgerKind.WORKERS and "grid_ids" in self.present:
            links = {row["worker_id"]: set(row["grid_ids"]) for row in rows}
            replace_links(session, worker_grids, "worker_id", "grid_id", links)
        return result


def make_loader(kind: LedgerKind, present: set[str], key: bytes | None) -> Loader:
    """The loader of ``kind``; residents need the identity key."""
    kind = LedgerKind(kind)
    if kind is LedgerKind.RESIDENTS:
        if key is None:
            raise ValueError("importing residents needs the identity key")
        return ResidentLoader(key, present)
    if kind is LedgerKind.ADDRESSES:
        return AddressLoader(present)
    return SimpleLoader(kind, present)


__all__ = ["Batch", "Flushed", "Loader", "Problem", "RowModel", "make_loader"]
