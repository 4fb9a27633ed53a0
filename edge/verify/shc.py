"""Verifier of SMART Health Cards (``shc:/``), offline, against the trust store.

The card is decoded (:mod:`edge.verify.shc_card`), its key found by ``iss`` and ``kid``
(the key's JWK thumbprint), its ES256 signature checked, then its ``rid`` against the
issuer's revocations and ``nbf``/``exp`` against the clock. A card whose signature
verifies gets a colour from its completed immunizations (the site's
:class:`~edge.verify.colour_rules.ShcRules`). One chunk of a card split over several QR
codes is reported ``unverified``/``unsupported``: the gate holds for a human.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from edge.verify.base import verifiers
from edge.verify.colour_rules import CLOCK_SKEW
from edge.verify.policy import CodePolicy
from edge.verify.shc_card import (
    ShcCard,
    ShcFormatError,
    UnsupportedCardError,
    numeric_to_jws,
    parse_jws,
)
from edge.verify.trust import TrustStore
from models.events import HealthCodeFormat, HealthCodeObservation, ReasonCode, VerificationStatus
from models.passes import PassClaims

MAX_DOSES = 20


def signature_valid(card: ShcCard, key: ec.EllipticCurvePublicKey) -> bool:
    """The card's ES256 (JOSE raw ``r || s``) signature verifies with ``key``."""
    if len(card.signature) != 64:
        return False
    r = int.from_bytes(card.signature[:32], "big")
    s = int.from_bytes(card.signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), card.signing_input, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


@verifiers.register("smart_health_card")
class ShcVerifier:
    """Structure, issuer key, signature, revocation and validity; then colour and the policy."""

    format = HealthCodeFormat.SMART_HEALTH_CARD

    def __init__(self, trust: TrustStore, policy: CodePolicy | None = None) -> None:
        self.trust = trust
        self.policy = policy or CodePolicy()

    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """Check a card; failures come back as reason codes."""
        try:
            card = parse_jws(numeric_to_jws(text))
        except UnsupportedCardError:
            return self._refused(seen_at, ReasonCode.UNSUPPORTED, VerificationStatus.UNVERIFIED)
        except ShcFormatError:
            return self._refused(seen_at, ReasonCode.MALFORMED)
        claims, kid = card.claims, card.header.kid
        key = self.trust.shc_key(claims.iss, kid)
        if key is None:
            return self._refused(seen_at, ReasonCode.UNKNOWN_ISSUER, issuer=kid)
        if not signature_valid(card, key.public_key):
            return self._refused(seen_at, ReasonCode.BAD_SIGNATURE, issuer=kid)
        reasons = []
        now = seen_at.timestamp()
        if key.is_revoked(claims.vc.rid, claims.nbf):
            reasons.append(ReasonCode.REVOKED)
        if claims.nbf > now + CLOCK_SKEW.total_seconds():
            reasons.append(ReasonCode.NOT_YET_VALID)
        if claims.exp is not None and claims.exp < now:
            reasons.append(ReasonCode.EXPIRED)
        doses = claims.completed_immunizations()
        colour = self.policy.shc.colour(doses)
        facts = PassClaims(
            pass_id="smart_health_card",  # noqa: S106 - an id, not a secret
            kid="smart_health_card",
            holder_ref="",
            colour=colour,
            issued_at=int(claims.nbf),
            expires_at=int(claims.exp or claims.nbf),
            doses=min(doses, MAX_DOSES),
        )
        return HealthCodeObservation(
            format=self.format,
            status=VerificationStatus.INVALID if reasons else VerificationStatus.VALID,
            reason_codes=reasons,
            colour=colour,
            issuer=kid,
            expires_at=datetime.fromtimestamp(claims.exp, UTC) if claims.exp is not None else None,
            policy_passed=not reasons and self.policy.passes(facts, seen_at),
            seen_at=seen_at,
        )

    def _refused(
        self,
        seen_at: datetime,
        reason: ReasonCode,
        status: VerificationStatus = VerificationStatus.INVALID,
        issuer: str | None = None,
    ) -> HealthCodeObservation:
        return HealthCodeObservation(
            format=self.format,
            status=status,
            reason_codes=[reason],
            issuer=issuer,
            policy_passed=False,
            seen_at=seen_at,
        )
