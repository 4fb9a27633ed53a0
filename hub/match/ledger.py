"""What matching needs to know about the ledger, independent of how it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from models.events import CodeColour
from models.ledger import HouseholdState


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


@dataclass(frozen=True, slots=True)
class HouseholdView:
    """The household at a standard address (households are keyed by their address code)."""

    household_id: str
    state: HouseholdState


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


@runtime_checkable
class HouseholdLedger(Protocol):
    """A lookup that also knows the household at each address."""

    def household(self, address_code: str) -> HouseholdView | None:
        """The household at a ledger address (state unknown when none is recorded); None
        when the address is not in the ledger."""
        ...


@dataclass(frozen=True)
class LedgerKeys:
    """Everything a batch of passages will look up, so it can be read in a few queries."""

    resident_ids: frozenset[str] = field(default_factory=frozenset)
    holder_refs: frozenset[str] = field(default_factory=frozenset)
    address_codes: frozenset[str] = field(default_factory=frozenset)
    site_ids: frozenset[str] = field(default_factory=frozenset)


@runtime_checkable
class PrefetchingLedger(LedgerLookup, Protocol):
    """A lookup that can read a whole batch's keys at once (then answers from memory)."""

    def prefetch(self, keys: LedgerKeys) -> None:
        """Read ``keys`` now; later lookups of them need no round trip."""
        ...
