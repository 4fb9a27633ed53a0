"""Alert drafts for one checked occupant: red or yellow code, unregistered arrival.

Each goes to the grid of the occupant's destination, else their home grid, else the site's
grid, else the site's default grid, as the rules engine falls back for gate alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.match.ledger import ResidentView
from hub.rules.config import RulesConfig
from hub.rules.engine import AlertDraft
from hub.vehicles.resolve import Destination, occupant_refs
from models.alerts import AlertRule
from models.events import CodeColour, PassageEvent, VerificationStatus
from models.vehicles import OccupantCheck, VehicleCheck

_CODE_RULES = {CodeColour.RED: AlertRule.RED_CODE, CodeColour.YELLOW: AlertRule.YELLOW_CODE}


@dataclass(frozen=True)
class CheckedOccupant:
    """One occupant with who they are and where they are bound, as resolved."""

    occupant: OccupantCheck
    position: int
    resident: ResidentView | None
    destination: Destination | None

    @property
    def bound_grid(self) -> str | None:
        """The grid they are bound for: the destination's, else their home's."""
        if self.destination is not None:
            return self.destination.grid_id
        return self.resident.grid_id if self.resident else None

    def subject(self, event: PassageEvent) -> str:
        """Who alerts are about: the resident, else their keyed reference, else the seat."""
        if self.resident is not None:
            return self.resident.resident_id
        refs = occupant_refs(self.occupant)
        return refs[0] if refs else f"vehicle:{event.event_id}:{self.position}"


def occupant_drafts(
    event: PassageEvent,
    vehicle: VehicleCheck,
    checked: CheckedOccupant,
    config: RulesConfig,
    site_grid: str | None,
) -> list[AlertDraft]:
    """The alert drafts one occupant raises (none for a green resident)."""
    grid = checked.bound_grid or site_grid or config.default_grid
    where = _where(event, vehicle, checked)
    rules: list[tuple[AlertRule, str]] = []
    code = checked.occupant.health_code
    if code is not None and code.status is not VerificationStatus.INVALID:
        rule = _CODE_RULES.get(code.colour) if code.colour else None
        if rule is not None:
            rules.append((rule, f"{code.colour} code {where}"))
    if checked.resident is None and checked.destination is not None:
        rules.append((AlertRule.UNREGISTERED_ARRIVAL, f"person not in the ledger {where}"))
    resident_id = checked.resident.resident_id if checked.resident else None
    return [
        AlertDraft(
            rule,
            config.severity_of(rule),
            checked.subject(event),
            grid,
            summary[:500],
            resident_id,
        )
        for rule, summary in rules
        if rule in config.enabled
    ]


def _where(event: PassageEvent, vehicle: VehicleCheck, checked: CheckedOccupant) -> str:
    lane = f", lane {vehicle.lane}" if vehicle.lane else ""
    text = f"in vehicle {vehicle.plate} seat {checked.occupant.seat}{lane} "
    text += f"at {event.site_id}/{event.gate_id} ({event.direction})"
    if checked.destination is not None:
        text += f", bound for {checked.destination.address_code}"
    elif checked.occupant.destination:
        text += f", bound for {checked.occupant.destination}"
    return text
