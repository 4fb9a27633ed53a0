"""Ledger look-ups for the dashboard: fuzzy address search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from hub.api.deps import StaffDep, StoreDep
from hub.ledger.address_search import search_addresses

router = APIRouter(prefix="/api/ledger", tags=["ledger"])


class AddressMatch(BaseModel):
    """A ledger address that may be the one meant."""

    address_code: str
    text: str
    grid_id: str
    score: float
    reason: str


@router.get("/addresses/search", response_model=list[AddressMatch])
def address_search(
    caller: StaffDep,
    store: StoreDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="e.g. 长庚里96号")],
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many.")] = 10,
) -> list[AddressMatch]:
    """Candidates for a loosely written address, best first (grid workers: their grids)."""
    with store.sessions() as session:
        found = search_addresses(session, q, limit=limit if caller.grids is None else 50)
    return [AddressMatch(**vars(c)) for c in found if caller.sees_grid(c.grid_id)][:limit]
