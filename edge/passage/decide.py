"""The local gate decision: open, deny, or hold for a human, with reasons."""

from __future__ import annotations

from collections.abc import Sequence

from edge.passage.config import DoorPlatePolicy, GatePolicy
from models.events import (
    CodeColour,
    DoorPlateObservation,
    FaceDecision,
    FaceObservation,
    GateAction,
    GateDecision,
    HealthCodeObservation,
    Observation,
    ReasonCode,
    VerificationStatus,
)
from models.identity import resident_id_for

PLATE_VETOES = frozenset(
    {"invalid_pass", "red_code", "yellow_code", "code_policy_failed", "unknown_face"}
)
"""Hold reasons that keep a door plate from opening: evidence against the person, where a
plate (a printed code anyone can photograph) is the weakest evidence for them."""


def decide(observations: Sequence[Observation], policy: GatePolicy) -> GateDecision:
    """Deny beats open beats hold; every rule that fired is named in the reasons.

    A door plate of the site (``policy.door_plate``) opens only when nothing speaks against
    the person: a red, yellow, invalid or policy-failed code, or an unknown face (unless
    ``open_despite_unknown_face``), holds or denies as it would without the plate. A plate of
    another compound holds. A green code or known face opens as before, plate or not.
    """
    deny: list[str] = []
    allow: list[str] = []
    hold: list[str] = []
    plates: list[DoorPlateObservation] = []
    for obs in observations:
        if isinstance(obs, HealthCodeObservation):
            _judge_code(obs, policy, deny, allow, hold)
        elif isinstance(obs, FaceObservation):
            _judge_face(obs, policy, allow, hold)
        else:
            plates.append(obs)
    if policy.door_plate.opens and plates:
        _judge_plates(plates, policy.door_plate, allow, hold)
    if policy.bind_pass_to_face and _someone_elses_pass(observations):
        (deny if policy.deny_on_invalid_pass else hold).append("holder_mismatch")
        allow.clear()
    if deny:
        return GateDecision(action=GateAction.DENY, reasons=deny)
    if allow:
        return GateDecision(action=GateAction.OPEN, reasons=allow)
    return GateDecision(action=GateAction.HOLD, reasons=hold or ["nothing_verified"])


def _judge_plates(
    plates: Sequence[DoorPlateObservation],
    policy: DoorPlatePolicy,
    allow: list[str],
    hold: list[str],
) -> None:
    if not any(policy.of_site(p.address_code) for p in plates):
        hold.append("door_plate_of_other_site")
        return
    vetoes = PLATE_VETOES - ({"unknown_face"} if policy.open_despite_unknown_face else set())
    if not vetoes.intersection(hold):
        allow.append("door_plate_of_site")


def _someone_elses_pass(observations: Sequence[Observation]) -> bool:
    """A known face and a pass whose holder is nobody among the known faces."""
    known = {
        o.local_match.resident_ref
        for o in observations
        if isinstance(o, FaceObservation) and o.local_match.decision is FaceDecision.KNOWN
    }
    holders = {
        resident_id_for(o.holder_ref)
        for o in observations
        if isinstance(o, HealthCodeObservation) and o.holder_ref is not None
    }
    return bool(known and holders and not holders <= known)


def _judge_code(
    code: HealthCodeObservation,
    policy: GatePolicy,
    deny: list[str],
    allow: list[str],
    hold: list[str],
) -> None:
    if code.status is VerificationStatus.INVALID:
        (deny if policy.deny_on_invalid_pass else hold).append("invalid_pass")
    elif ReasonCode.PLATFORM_UNREACHABLE in code.reason_codes:  # the site's outage policy
        if code.policy_passed is False:
            deny.append("platform_unreachable")
        elif code.policy_passed and policy.open_on_green_code:
            allow.append("platform_unreachable")
        else:
            hold.append("platform_unreachable")
    elif code.colour is CodeColour.RED:
        (deny if policy.deny_on_red_code else hold).append("red_code")
    elif code.colour is CodeColour.YELLOW:
        hold.append("yellow_code")
    elif code.policy_passed is False:
        hold.append("code_policy_failed")
    elif code.status is VerificationStatus.VALID and code.colour is CodeColour.GREEN:
        (allow if policy.open_on_green_code else hold).append("green_code")
    else:
        hold.append("code_unverified")


def _judge_face(
    face: FaceObservation, policy: GatePolicy, allow: list[str], hold: list[str]
) -> None:
    decision = face.local_match.decision
    if decision is FaceDecision.KNOWN and policy.open_on_known_face:
        if policy.require_liveness and not face.liveness.passed:
            hold.append("liveness_not_passed")
        else:
            allow.append("known_face")
    elif decision is FaceDecision.UNKNOWN:
        hold.append("unknown_face")
    elif decision is FaceDecision.UNDECIDED:
        hold.append("undecided_face")
