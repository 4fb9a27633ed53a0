"""Issue GGHC1 passes: for integration tests, drills and local issuers."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from models.events import CodeColour
from models.identity import holder_ref, mask_name
from models.passes import PassClaims, TestResult, TripRisk, sign_pass


@dataclass(frozen=True)
class PassRequest:
    """What a pass should say about its holder."""

    id_number: str
    name: str
    colour: CodeColour
    valid_minutes: float = 24 * 60
    tested_hours_ago: float | None = None
    test_positive: bool = False
    doses: int = 0
    trip_risk: TripRisk = TripRisk.NONE


def issue_pass(
    request: PassRequest,
    key: ec.EllipticCurvePrivateKey,
    kid: str,
    identity_key: bytes,
    now: float | None = None,
) -> str:
    """A signed token naming the holder only by keyed hash and masked name."""
    issued = time.time() if now is None else now
    tested = request.tested_hours_ago
    claims = PassClaims(
        pass_id=secrets.token_urlsafe(9),
        kid=kid,
        holder_ref=holder_ref(request.id_number, identity_key),
        name_masked=mask_name(request.name),
        colour=request.colour,
        issued_at=int(issued),
        expires_at=int(issued + request.valid_minutes * 60),
        test_at=int(issued - tested * 3600) if tested is not None else None,
        test_result=(
            None
            if tested is None
            else TestResult.POSITIVE
            if request.test_positive
            else TestResult.NEGATIVE
        ),
        doses=request.doses,
        trip_risk=request.trip_risk,
    )
    return sign_pass(claims, key)
