"""Who an occupant is (ledger resident) and where they are bound (ledger address and grid).

A resident is found as the matcher finds a pass's holder: by keyed reference, here the ID's
``id_ref`` first, then the health code's ``holder_ref``. A destination is the picked door
plate's address when the ledger knows it, else the free text through the ledger's fuzzy
address search, taken only when its best candidate is confident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub.ledger.address_search import AddressCandidate, parse_address, search_addresses
from hub.match.ledger import LedgerKeys, LedgerLookup, PrefetchingLedger, ResidentView
from models.events import PassageEvent
from models.vehicles import OccupantCheck

CONFIDENT_SCORE = 85.0
"""Lowest search score (0-100) a free-text destination is taken at."""
CONFIDENT_MARGIN = 10.0
"""How far the best candidate must lead the runner-up (another street or number)."""


@dataclass(frozen=True)
class Destination:
    """A ledger address an occupant is bound for, and how it was found."""

    address_code: str
    grid_id: str
    how: str
    """``door_plate`` (the code sent) or ``search`` (the free text)."""


def occupant_refs(occupant: OccupantCheck) -> list[str]:
    """The keyed references an occupant can be found by, the ID's first."""
    code = occupant.health_code
    refs = [occupant.id_ref, code.holder_ref if code else None]
    return list(dict.fromkeys(ref for ref in refs if ref))


def prefetch(ledger: LedgerLookup, events: Sequence[PassageEvent]) -> None:
    """Read every occupant's references, picked addresses and the sites in a few queries."""
    if not isinstance(ledger, PrefetchingLedger):
        return
    occupants = [o for e in events if e.vehicle for o in e.vehicle.occupants]
    ledger.prefetch(
        LedgerKeys(
            holder_refs=frozenset(ref for o in occupants for ref in occupant_refs(o)),
            address_codes=frozenset(
                o.destination_address_code for o in occupants if o.destination_address_code
            ),
            site_ids=frozenset(e.site_id for e in events),
        )
    )


def find_resident(ledger: LedgerLookup, occupant: OccupantCheck) -> ResidentView | None:
    """The ledger resident the occupant's ID or code names, if any."""
    for ref in occupant_refs(occupant):
        resident = ledger.resident_by_holder(ref)
        if resident is not None:
            return resident
    return None


def confident(text: str, candidates: Iterable[AddressCandidate]) -> AddressCandidate | None:
    """The best candidate for ``text`` when it is clearly the one meant, else None.

    The text must name a house number, the best score reach :data:`CONFIDENT_SCORE` and lead
    any other street or number by :data:`CONFIDENT_MARGIN`.
    """
    if parse_address(text).number is None:
        return None
    ranked = sorted(candidates, key=lambda c: -c.score)
    if not ranked or ranked[0].score < CONFIDENT_SCORE:
        return None
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < CONFIDENT_MARGIN:
        return None
    return ranked[0]


class DestinationResolver:
    """Resolves destinations within one transaction; each free text is searched once."""

    def __init__(self, session: Session, ledger: LedgerLookup) -> None:
        self.session, self.ledger = session, ledger
        self._searched: dict[str, Destination | None] = {}

    def resolve(self, occupant: OccupantCheck) -> Destination | None:
        """The ledger address the occupant is bound for (None: not in the district)."""
        code = occupant.destination_address_code
        if code is not None:
            grid = self.ledger.address_grid(code)
            if grid is not None:
                return Destination(code, grid, "door_plate")
        text = (occupant.destination or "").strip()
        return self._search(text) if text else None

    def _search(self, text: str) -> Destination | None:
        if text not in self._searched:
            with self.session.no_autoflush:
                best = confident(text, search_addresses(self.session, text, limit=2))
            self._searched[text] = (
                Destination(best.address_code, best.grid_id, "search") if best else None
            )
        return self._searched[text]
