"""Evaluate the site's rules on a matched passage; each rule yields alert drafts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.match.ledger import ResidentView
from hub.match.matcher import PassageMatch
from hub.rules.config import RulesConfig
from models.alerts import AlertRule, Severity
from models.events import (
    CodeColour,
    Direction,
    FaceDecision,
    HealthCodeObservation,
    PassageEvent,
    ReasonCode,
    VerificationStatus,
)
from models.ledger import HouseholdState


@dataclass(frozen=True)
class AlertDraft:
    """An alert before it is merged with the active alert of the same person and rule."""

    rule: AlertRule
    severity: Severity
    subject_ref: str
    grid_id: str
    summary: str
    resident_id: str | None = None


class _Drafts:
    def __init__(self, event: PassageEvent, match: PassageMatch, config: RulesConfig) -> None:
        self.event, self.match, self.config = event, match, config
        self.items: list[AlertDraft] = []

    def grid(self, resident: ResidentView | None = None) -> str:
        plate_grids = [p.grid_id for p in self.match.plates if p.grid_id]
        for grid in (resident.grid_id if resident else None, *plate_grids, self.match.site_grid):
            if grid:
                return grid
        return self.config.default_grid

    def add(
        self,
        rule: AlertRule,
        subject: str,
        summary: str,
        resident: ResidentView | None = None,
        grid: str | None = None,
    ) -> None:
        if rule not in self.config.enabled:
            return
        draft = AlertDraft(
            rule,
            self.config.severity_of(rule),
            subject,
            grid or self.grid(resident),
            summary,
            resident.resident_id if resident else None,
        )
        if draft not in self.items:
            self.items.append(draft)


def evaluate(
    event: PassageEvent, match: PassageMatch, config: RulesConfig, now: datetime
) -> list[AlertDraft]:
    """Alert drafts for one passage (empty for a registered resident with a green code)."""
    drafts = _Drafts(event, match, config)
    where = f"{event.site_id}/{event.gate_id} ({event.direction})"
    _codes(drafts, where)
    _faces(drafts, where)
    _residents(drafts, where, now)
    _households(drafts, where)
    return drafts.items


def _codes(drafts: _Drafts, where: str) -> None:
    for result in drafts.match.codes:
        code, resident = result.observation, result.resident
        subject = resident.resident_id if resident else (code.holder_ref or "pass:unknown")
        if code.status is VerificationStatus.INVALID:
            reasons = ", ".join(code.reason_codes) or "invalid"
            drafts.add(AlertRule.INVALID_PASS, subject, f"invalid pass at {where}: {reasons}")
            continue
        if ReasonCode.PLATFORM_UNREACHABLE in code.reason_codes:  # checked by a person later
            gate = drafts.event.decision.action
            drafts.add(
                AlertRule.CODE_UNVERIFIED,
                f"gate:{drafts.event.site_id}:{drafts.event.gate_id}",
                f"health code not verified at {where}: platform unreachable (gate {gate})",
            )
        if code.colour is CodeColour.RED:
            drafts.add(AlertRule.RED_CODE, subject, f"red code at {where}", resident)
        elif code.colour is CodeColour.YELLOW:
            drafts.add(AlertRule.YELLOW_CODE, subject, f"yellow code at {where}", resident)
        if resident is None and code.holder_ref and code.status is VerificationStatus.VALID:
            drafts.add(
                AlertRule.UNREGISTERED_PERSON,
                code.holder_ref,
                f"pass holder not in the ledger at {where}",
            )
    valid = sum(1 for r in drafts.match.codes if _counts_as_pass(r.observation))
    faces = len(drafts.match.faces)
    if drafts.config.tailgating_requires_passes and faces > valid:
        drafts.add(
            AlertRule.TAILGATING,
            f"gate:{drafts.event.site_id}:{drafts.event.gate_id}",
            f"{faces} faces but {valid} valid passes at {where}",
        )


def _counts_as_pass(code: HealthCodeObservation) -> bool:
    """Valid, or accepted by the site's outage policy while the platform was unreachable."""
    if code.status is VerificationStatus.VALID:
        return True
    return ReasonCode.PLATFORM_UNREACHABLE in code.reason_codes and code.policy_passed is True


def _faces(drafts: _Drafts, where: str) -> None:
    identified = {r.resident_id for r in drafts.match.residents()}
    for result in drafts.match.faces:
        if result.match.decision is not FaceDecision.UNKNOWN:
            continue
        code_holders = [c for c in drafts.match.codes if c.resident is not None]
        if len(code_holders) >= len(drafts.match.faces) and identified:
            continue  # everyone present showed a pass of a known resident
        drafts.add(
            AlertRule.UNREGISTERED_PERSON,
            result.stranger_ref or f"face:{drafts.event.event_id}:{result.observation.track_id}",
            f"unregistered face at {where}",
        )


def _residents(drafts: _Drafts, where: str, now: datetime) -> None:
    plates = {p.observation.address_code for p in drafts.match.plates}
    for resident in drafts.match.residents():
        quarantined = resident.quarantine_until and resident.quarantine_until >= now.date()
        if quarantined and drafts.event.direction is Direction.EXIT:
            drafts.add(
                AlertRule.QUARANTINE_BREACH,
                resident.resident_id,
                f"{resident.name} under home quarantine until "
                f"{resident.quarantine_until} leaving at {where}",
                resident,
            )
        if _test_overdue(resident, drafts, now):
            hours = f"{drafts.config.test_overdue_h:g}"
            drafts.add(
                AlertRule.TEST_OVERDUE,
                resident.resident_id,
                f"{resident.name}: no test within {hours} h, at {where}",
                resident,
            )
        if plates and resident.address_code and resident.address_code not in plates:
            drafts.add(
                AlertRule.ADDRESS_MISMATCH,
                resident.resident_id,
                f"{resident.name} scanned door plate {', '.join(sorted(plates))} "
                f"but lives at {resident.address_code}",
                resident,
            )


def _households(drafts: _Drafts, where: str) -> None:
    """A door plate of a household the ledger records as vacant: someone may live there
    unregistered (one alert per household, in the address's grid)."""
    for plate in drafts.match.plates:
        household = plate.household
        if household is None or household.state is not HouseholdState.VACANT:
            continue
        drafts.add(
            AlertRule.VACANT_HOUSEHOLD_ACTIVITY,
            f"household:{household.household_id}",
            f"door plate {plate.observation.address_code} of a household recorded vacant "
            f"scanned at {where}",
            grid=plate.grid_id,
        )


def _test_overdue(resident: ResidentView, drafts: _Drafts, now: datetime) -> bool:
    if drafts.config.test_required_for == "returnees" and not resident.key_area_returnee:
        return False
    tested = _last_test(resident, drafts)
    return tested is None or now - tested > timedelta(hours=drafts.config.test_overdue_h)


def _last_test(resident: ResidentView, drafts: _Drafts) -> datetime | None:
    times = [resident.last_test_at] if resident.last_test_at else []
    times += [
        c.observation.last_test_at
        for c in drafts.match.codes
        if c.resident == resident and c.observation.last_test_at
    ]
    return max(times, default=None)
