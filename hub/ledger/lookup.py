"""The ledger as matching sees it: :class:`hub.match.ledger.LedgerLookup` over SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.match.ledger import ResidentView
from hub.store.ledger_tables import AddressRow, ResidentRow, SiteRow
from models.events import CodeColour

_VIEW_COLUMNS = (
    ResidentRow.resident_id,
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

    Address and site grids are remembered for the life of the object: create one per
    session, as :data:`hub.alerts.effects.LedgerFactory` does.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._address_grids: dict[str, str | None] = {}
        self._site_grids: dict[str, str | None] = {}

    def resident(self, resident_id: str) -> ResidentView | None:
        """A resident by id."""
        row = self.session.execute(
            _VIEW_QUERY.where(ResidentRow.resident_id == resident_id)
        ).one_or_none()
        return None if row is None else _view(row)

    def resident_by_holder(self, holder_ref: str) -> ResidentView | None:
        """The resident whose ID number hashes to ``holder_ref``."""
        row = self.session.execute(
            _VIEW_QUERY.where(ResidentRow.holder_ref == holder_ref)
        ).one_or_none()
        return None if row is None else _view(row)

    def address_grid(self, address_code: str) -> str | None:
        """The grid of a standard address, or None when the address is not in the ledger."""
        if address_code not in self._address_grids:
            query = select(AddressRow.grid_id).where(AddressRow.address_code == address_code)
            self._address_grids[address_code] = self.session.scalar(query)
        return self._address_grids[address_code]

    def site_grid(self, site_id: str) -> str | None:
        """The grid a site (compound, checkpoint) belongs to."""
        if site_id not in self._site_grids:
            query = select(SiteRow.grid_id).where(SiteRow.site_id == site_id)
            self._site_grids[site_id] = self.session.scalar(query)
        return self._site_grids[site_id]
