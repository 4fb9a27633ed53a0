"""One occupant's verdict: the site's three-code policy, the holder check and the desk's rules.

The verifier already applied the site's :class:`~edge.verify.policy.CodePolicy` (colour, test
age, trip risk, doses) to a code it could verify; this names why a person did not pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edge.verify.policy import CodePolicy
from models.events import CodeColour, HealthCodeObservation, ReasonCode, VerificationStatus


@dataclass(frozen=True)
class DeskRules:
    """What the desk requires of every occupant besides a passing code."""

    policy: CodePolicy
    require_id: bool = False
    destination_required: bool = True


def code_reasons(code: HealthCodeObservation, policy: CodePolicy, now: datetime) -> list[str]:
    """Why ``code`` does not pass the site's policy (empty: it passes)."""
    if code.policy_passed is True and code.status is not VerificationStatus.INVALID:
        return []  # valid and within policy, or the site's outage policy accepts it
    if code.status is not VerificationStatus.VALID:
        return [str(r) for r in code.reason_codes] or [f"code_{code.status}"]
    if code.colour in (CodeColour.RED, CodeColour.YELLOW) and policy.require_green:
        return [f"{code.colour}_code"]
    if policy.max_test_age_h is not None and (
        code.last_test_at is None
        or (now - code.last_test_at).total_seconds() > policy.max_test_age_h * 3600
    ):
        return ["test_too_old"]
    return ["code_policy_failed"]


def judge(
    code: HealthCodeObservation,
    rules: DeskRules,
    now: datetime,
    *,
    id_ref: str | None = None,
    destination: str | None = None,
) -> list[str]:
    """Every reason this occupant does not pass; an empty list means they pass."""
    reasons = code_reasons(code, rules.policy, now)
    if id_ref is not None and code.holder_ref is not None and id_ref != code.holder_ref:
        reasons.append(str(ReasonCode.HOLDER_MISMATCH))
    if rules.require_id and id_ref is None:
        reasons.append("id_missing")
    if rules.destination_required and not destination:
        reasons.append("destination_missing")
    return reasons
