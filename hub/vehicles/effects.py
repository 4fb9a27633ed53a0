"""The vehicle part of the ingest effects: store each new vehicle, draft its occupants' alerts.

Called by :class:`hub.alerts.effects.AlertEffects` inside the batch's transaction, so the
vehicle, its occupants and their alerts commit with the event or not at all. Ingest hands
only events stored for the first time, so a vehicle delivered twice is stored once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from hub.match.ledger import LedgerLookup
from hub.rules.config import RulesConfig
from hub.rules.engine import AlertDraft
from hub.vehicles.drafts import CheckedOccupant, occupant_drafts
from hub.vehicles.resolve import DestinationResolver, find_resident, prefetch
from hub.vehicles.store import CheckedVehicle, insert_vehicles
from models.events import PassageEvent


def record_vehicles(
    session: Session,
    events: Sequence[PassageEvent],
    ledger: LedgerLookup,
    rules: Callable[[str], RulesConfig],
) -> dict[uuid.UUID, list[AlertDraft]]:
    """Store the vehicles among ``events``; their alert drafts by event id (empty: none)."""
    pairs = [(e, e.vehicle) for e in events if e.vehicle is not None]
    if not pairs:
        return {}
    prefetch(ledger, [event for event, _ in pairs])
    resolver = DestinationResolver(session, ledger)
    checked = [
        CheckedVehicle(
            event,
            vehicle,
            [
                CheckedOccupant(o, i, find_resident(ledger, o), resolver.resolve(o))
                for i, o in enumerate(vehicle.occupants, 1)
            ],
        )
        for event, vehicle in pairs
    ]
    insert_vehicles(session, checked)
    return {c.event.event_id: _drafts(c, ledger, rules(c.event.site_id)) for c in checked}


def _drafts(checked: CheckedVehicle, ledger: LedgerLookup, config: RulesConfig) -> list[AlertDraft]:
    site_grid = ledger.site_grid(checked.event.site_id)
    drafts: list[AlertDraft] = []
    for occupant in checked.occupants:
        for draft in occupant_drafts(checked.event, checked.vehicle, occupant, config, site_grid):
            if draft not in drafts:
                drafts.append(draft)
    return drafts
