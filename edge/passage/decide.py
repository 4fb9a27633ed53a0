"""The local gate decision: open, deny, or hold for a human, with reasons."""

from __future__ import annotations

from collections.abc import Sequence

from edge.passage.config import GatePolicy
from models.events import (
    CodeColour,
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


def decide(observations: Sequence[Observation], policy: GatePolicy) -> GateDecision:
    """Deny beats open beats hold; every rule that fired is named in the reasons."""
    deny: list[str] = []
    allow: list[str] = []
    hold: list[str] = []
    for obs in observations:
        if isinstance(obs, HealthCodeObservation):
            _judge_code(obs, policy, deny, allow, hold)
        elif isinstance(obs, FaceObservation):
            _judge_face(obs, policy, allow, hold)
    if policy.bind_pass_to_face and _someone_elses_pass(observations):
        (deny if policy.deny_on_invalid_pass else hold).append("holder_mismatch")
        allow.clear()
    if deny:
        return GateDecision(action=GateAction.DENY, reasons=deny)
    if allow:
        return GateDecision(action=GateAction.OPEN, reasons=allow)
    return GateDecision(action=GateAction.HOLD, reasons=hold or ["nothing_verified"])


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
