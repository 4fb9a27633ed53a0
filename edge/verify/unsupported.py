"""Placeholder verifiers for formats recognised but not yet verified here (EU DCC, SHC).

They report the format with status ``unverified`` and reason ``unsupported``, so the
passage records what was shown and the gate holds for a human.
"""

from __future__ import annotations

from datetime import datetime

from edge.verify.base import verifiers
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustStore
from models.events import HealthCodeFormat, HealthCodeObservation, ReasonCode, VerificationStatus


class UnsupportedVerifier:
    """Records the format; decides nothing."""

    def __init__(self, code_format: HealthCodeFormat) -> None:
        self.format = code_format

    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """An unverified observation with reason ``unsupported``."""
        return HealthCodeObservation(
            format=self.format,
            status=VerificationStatus.UNVERIFIED,
            reason_codes=[ReasonCode.UNSUPPORTED],
            seen_at=seen_at,
        )


@verifiers.register("eu_dcc")
def eu_dcc(trust: TrustStore, policy: CodePolicy) -> UnsupportedVerifier:
    """EU Digital COVID Certificate (HC1:), until its verifier lands."""
    return UnsupportedVerifier(HealthCodeFormat.EU_DCC)


@verifiers.register("smart_health_card")
def smart_health_card(trust: TrustStore, policy: CodePolicy) -> UnsupportedVerifier:
    """SMART Health Card (shc:/), until its verifier lands."""
    return UnsupportedVerifier(HealthCodeFormat.SMART_HEALTH_CARD)
