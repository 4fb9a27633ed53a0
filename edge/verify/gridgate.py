"""Verifier of gridgate's own signed passes (``GGHC1:``), offline, against the trust store."""

from __future__ import annotations

from datetime import UTC, datetime

from edge.verify.base import verifiers
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustStore
from models.events import HealthCodeFormat, HealthCodeObservation, ReasonCode, VerificationStatus
from models.passes import PassFormatError, parse_pass

CLOCK_SKEW_S = 300


@verifiers.register("gridgate")
class GridgateVerifier:
    """Signature, issuer, revocation and validity window, then the site's policy."""

    format = HealthCodeFormat.GRIDGATE

    def __init__(self, trust: TrustStore, policy: CodePolicy | None = None) -> None:
        self.trust = trust
        self.policy = policy or CodePolicy()

    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """Check a token; failures come back as reason codes."""
        try:
            parsed = parse_pass(text)
        except PassFormatError:
            return self._invalid(seen_at, ReasonCode.MALFORMED)
        claims = parsed.claims
        key = self.trust.key(claims.kid)
        if key is None:
            return self._invalid(seen_at, ReasonCode.UNKNOWN_ISSUER, issuer=claims.kid)
        if not parsed.signature_valid(key):
            return self._invalid(seen_at, ReasonCode.BAD_SIGNATURE, issuer=claims.kid)
        reasons = []
        now = seen_at.timestamp()
        if self.trust.is_revoked(claims.pass_id):
            reasons.append(ReasonCode.REVOKED)
        if claims.issued_at > now + CLOCK_SKEW_S:
            reasons.append(ReasonCode.NOT_YET_VALID)
        if claims.expires_at < now:
            reasons.append(ReasonCode.EXPIRED)
        valid = not reasons
        return HealthCodeObservation(
            format=self.format,
            status=VerificationStatus.VALID if valid else VerificationStatus.INVALID,
            reason_codes=reasons,
            colour=claims.colour,
            holder_ref=claims.holder_ref,
            issuer=claims.kid,
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
            last_test_at=datetime.fromtimestamp(claims.test_at, UTC) if claims.test_at else None,
            policy_passed=self.policy.passes(claims, seen_at) if valid else False,
            seen_at=seen_at,
        )

    def _invalid(
        self, seen_at: datetime, reason: ReasonCode, issuer: str | None = None
    ) -> HealthCodeObservation:
        return HealthCodeObservation(
            format=self.format,
            status=VerificationStatus.INVALID,
            reason_codes=[reason],
            issuer=issuer,
            policy_passed=False,
            seen_at=seen_at,
        )
