"""The ledger as matching sees it: :class:`hub.match.ledger.LedgerLookup` over SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Executable, select
from sqlalchemy.orm import Session

from hub.match.ledger import HouseholdView, LedgerKeys, ResidentView
from hub.store.keyed import keys_in
from hub.store.ledger_tables import AddressRow, HouseholdRow, ResidentRow, SiteRow
from models.events import CodeColour
from models.ledger import HouseholdState

IN_CHUNK = 500
"""Keys per ``IN (...)`` query."""

_VIEW_COLUMNS = (
    ResidentRow.resident_id,
    ResidentRow.holder_ref,
    ResidentRow.name,
    ResidentRow.address_code,
    AddressRow.grid_id,
    ResidentRow.quarantine_until,
    ResidentRow.key_area_returnee,
    ResidentRow.code_colour,
    ResidentRow.last_test_at,
)


_VIEW_QUERY = select(*_VIEW_COLUMNS).outerjoin(
    AddressRow, AddressRow.address_code == ResidentRow.address_code
)
"""A resident with the grid of their address."""

# Statements built once, so each batch only binds its keys (parameter ``keys``).
_BY_ID = _VIEW_QUERY.where(keys_in(ResidentRow.resident_id))
_BY_HOLDER = _VIEW_QUERY.where(keys_in(ResidentRow.holder_ref))
_ADDRESSES = (
    select(AddressRow.address_code, AddressRow.grid_id, HouseholdRow.state)
    .outerjoin(HouseholdRow, HouseholdRow.address_code == AddressRow.address_code)
    .where(keys_in(AddressRow.address_code))
)
"""An address's grid and its household's state, in the one query that resolves a plate."""
_STATES = {str(state): state for state in HouseholdState}
_SITE_GRIDS = select(SiteRow.site_id, SiteRow.grid_id).where(keys_in(SiteRow.site_id))


def _view(row: Any) -> ResidentView:
    colour = row.code_colour
    return ResidentView(
        resident_id=row.resident_id,
        name=row.name,
        address_code=row.address_code,
        grid_id=row.grid_id,
        quarantine_until=row.quarantine_until,
        key_area_returnee=row.key_area_returnee,
        code_colour=CodeColour(colour) if colour else None,
        last_test_at=row.last_test_at,
    )


class SqlLedgerLookup:
    """Ledger reads in the caller's session (e.g. the event's own transaction).

    Everything read is remembered for the life of the object: create one per session, as
    :data:`hub.alerts.effects.LedgerFactory` does. :meth:`prefetch` reads a whole ingest
    batch's keys in a few ``IN`` queries, so matching the batch makes no further round trip
    (a door plate's grid and household come from the same query).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._residents: dict[str, ResidentView | None] = {}
        self._holders: dict[str, ResidentView | None] = {}
        self._address_grids: dict[str, str | None] = {}
        self._households: dict[str, HouseholdView | None] = {}
        self._site_grids: dict[str, str | None] = {}

    def prefetch(self, keys: LedgerKeys) -> None:
        """Read every resident, holder, address and site of ``keys`` not read yet."""
        # Core execution on the session's connection: these are plain column reads of the
        # ledger, which ingest never changes, so the ORM's per-statement work buys nothing.
        connection = self.session.connection()
        for chunk in _chunks(keys.resident_ids - self._residents.keys()):
            self._residents.update(dict.fromkeys(chunk))
            self._remember(connection.execute(_BY_ID, {"keys": chunk}))
        for chunk in _chunks(keys.holder_refs - self._holders.keys()):
            self._holders.update(dict.fromkeys(chunk))
            self._remember(connection.execute(_BY_HOLDER, {"keys": chunk}))
        for chunk in _chunks(keys.address_codes - self._address_grids.keys()):
            self._address_grids.update(dict.fromkeys(chunk))
            self._households.update(dict.fromkeys(chunk))
            for code, grid, state in connection.execute(_ADDRESSES, {"keys": chunk}):
                self._address_grids[code] = grid
                self._households[code] = HouseholdView(
                    code, _STATES[state] if state else HouseholdState.UNKNOWN
                )
        for chunk in _chunks(keys.site_ids - self._site_grids.keys()):
            self._site_grids.update(dict.fromkeys(chunk))
            self._site_grids.update(self._pairs(_SITE_GRIDS, chunk))

    def resident(self, resident_id: str) -> ResidentView | None:
        """A resident by id."""
        if resident_id not in self._residents:
            self.prefetch(LedgerKeys(resident_ids=frozenset([resident_id])))
        return self._residents[resident_id]

    def resident_by_holder(self, holder_ref: str) -> ResidentView | None:
        """The resident whose ID number hashes to ``holder_ref``."""
        if holder_ref not in self._holders:
            self.prefetch(LedgerKeys(holder_refs=frozenset([holder_ref])))
        return self._holders[holder_ref]

    def address_grid(self, address_code: str) -> str | None:
        """The grid of a standard address, or None when the address is not in the ledger."""
        if address_code not in self._address_grids:
            self.prefetch(LedgerKeys(address_codes=frozenset([address_code])))
        return self._address_grids[address_code]

    def household(self, address_code: str) -> HouseholdView | None:
        """The household at a ledger address (state unknown when none is recorded); None
        when the address is not in the ledger."""
        if address_code not in self._households:
            self.prefetch(LedgerKeys(address_codes=frozenset([address_code])))
        return self._households[address_code]

    def site_grid(self, site_id: str) -> str | None:
        """The grid a site (compound, checkpoint) belongs to."""
        if site_id not in self._site_grids:
            self.prefetch(LedgerKeys(site_ids=frozenset([site_id])))
        return self._site_grids[site_id]

    def _remember(self, rows: Iterable[Any]) -> None:
        for row in rows:
            view = _view(row)
            self._residents[row.resident_id] = view
            self._holders[row.holder_ref] = view

    def _pairs(self, query: Executable, keys: list[str]) -> dict[str, str | None]:
        """Key → grid rows of ``query`` for ``keys``."""
        rows = self.session.connection().execute(query, {"keys": keys})
        return {row[0]: row[1] for row in rows}


def _chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    """``keys`` sorted, in lists short enough for one ``IN`` (SQLite limits parameters)."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]
