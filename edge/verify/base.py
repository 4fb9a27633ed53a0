"""The verifier protocol: raw QR text in, a :class:`HealthCodeObservation` out, never raising."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from edge.registry import Registry
from models.events import HealthCodeFormat, HealthCodeObservation


class HealthCodeVerifier(Protocol):
    """Checks one health-code format offline (or online, for platform codes)."""

    format: HealthCodeFormat

    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """Verify ``text``; every failure is a reason code in the result, not an exception."""
        ...


verifiers: Registry[HealthCodeVerifier] = Registry("health-code verifier")
"""Factories take ``(trust: TrustStore, policy: CodePolicy)``; names are HealthCodeFormat values."""
VERIFIER_MODULES = ("edge.verify.gridgate", "edge.verify.eu_dcc", "edge.verify.shc")
