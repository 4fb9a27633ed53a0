"""What matching needs to know about the ledger, independent of how it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from models.events import CodeColour


@dataclass(frozen=True)
class ResidentView:
    """A resident as the rules see them."""

    resident_id: str
    name: str
    address_code: str | None
    grid_id: str | None
    quarantine_until: date | None = None
    key_area_returnee: bool = False
    code_colour: CodeColour | None = None
    last_test_at: datetime | None = None


class LedgerLookup(Protocol):
    """Read access to the ledger for one passage."""

    def resident(self, resident_id: str) -> ResidentView | None:
        """A resident by id."""
        ...

    def resident_by_holder(self, holder_ref: str) -> ResidentView | None:
        """The resident whose ID number hashes to ``holder_ref``."""
        ...

    def address_grid(self, address_code: str) -> str | None:
        """The grid of a standard address, or None when the address is not in the ledger."""
        ...

    def site_grid(self, site_id: str) -> str | None:
        """The grid a site (compound, checkpoint) belongs to."""
        ...
