"""Fuzzy address search across the ledger, for Chinese lane/number forms.

People and workers write addresses loosely: "长庚里96号" for what the ledger has as
"新塘里96号 3栋", a wrong character, a missing 号. The search parses the street and number,
then scores ledger addresses by street similarity (rapidfuzz), an exact house number, and
streets that share a grid with the asked one (neighbouring lanes are the usual mix-up).

>>> parse_address("长庚里96号3栋2单元301")
AddressQuery(street='长庚里', number='96', rest='3栋2单元301')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.store.ledger_tables import AddressRow

_QUERY_RE = re.compile(r"\s*(?P<street>[^\d\s]+?)\s*(?P<number>\d+)\s*号?\s*(?P<rest>.*)")
STREET_CANDIDATES = 12
NEIGHBOUR_SCORE = 60.0


@dataclass(frozen=True)
class AddressQuery:
    """A free-text address split into street, house number and the rest."""

    street: str
    number: str | None
    rest: str


@dataclass(frozen=True)
class AddressCandidate:
    """A ledger address with how well it fits the query (0-100) and why."""

    address_code: str
    text: str
    grid_id: str
    score: float
    reason: str


def parse_address(text: str) -> AddressQuery:
    """Split ``text``; without a number the whole text is the street."""
    text = text.strip()[:200]
    match = _QUERY_RE.fullmatch(text)
    if match is None:
        return AddressQuery(street=text, number=None, rest="")
    return AddressQuery(match["street"], str(int(match["number"])), match["rest"].strip())


def address_text(row: AddressRow) -> str:
    """How an address is written: 新塘里96号 3栋2单元301."""
    parts = [f"{row.street}{row.number}号"]
    detail = "".join(
        f"{value}{unit}"
        for value, unit in ((row.building, "栋"), (row.unit, "单元"), (row.room, ""))
        if value
    )
    return f"{parts[0]} {detail}".strip()


def search_addresses(session: Session, text: str, limit: int = 10) -> list[AddressCandidate]:
    """The ``limit`` best candidates for ``text`` (one per street and number, best first)."""
    query = parse_address(text)
    if not query.street:
        return []
    streets = _street_scores(session, query.street)
    if not streets:
        return []
    stmt = select(AddressRow).where(AddressRow.street.in_(streets))
    if query.number is not None:
        stmt = stmt.where(AddressRow.number == query.number)
    best: dict[tuple[str, str], AddressCandidate] = {}
    for row in session.scalars(stmt.order_by(AddressRow.address_code).limit(5000)):
        street_score, reason = streets[row.street]
        score = street_score
        if query.rest:
            score = 0.8 * score + 0.2 * fuzz.ratio(query.rest, address_text(row).split(" ")[-1])
        key = (row.street, row.number)
        if key not in best or score > best[key].score:
            best[key] = AddressCandidate(
                row.address_code, address_text(row), row.grid_id, round(score, 1), reason
            )
    return sorted(best.values(), key=lambda c: (-c.score, c.text))[:limit]


def _street_scores(session: Session, street: str) -> dict[str, tuple[float, str]]:
    """Streets worth looking at: similar names, and the asked street's grid neighbours."""
    rows = session.execute(select(AddressRow.street, AddressRow.grid_id).distinct()).all()
    grids_of: dict[str, set[str]] = {}
    for name, grid in rows:
        grids_of.setdefault(name, set()).add(grid)
    scores: dict[str, tuple[float, str]] = {}
    for name, score, _ in process.extract(
        street, list(grids_of), scorer=fuzz.ratio, limit=STREET_CANDIDATES
    ):
        scores[name] = (float(score), "same street" if score == 100 else "similar street name")
    asked = [name for name, (score, _) in scores.items() if score >= 100 * 2 / 3]
    near = set().union(*(grids_of[name] for name in asked)) if asked else set()
    for name, grids in grids_of.items():
        if grids & near and scores.get(name, (0.0, ""))[0] < NEIGHBOUR_SCORE:
            scores[name] = (NEIGHBOUR_SCORE, "neighbouring street in the same grid")
    return scores
