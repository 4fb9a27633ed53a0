"""Masked names from verified gridgate passes: the verifier result carries none, the pass does.

:class:`NameTap` wraps the GGHC1 verifier of the pipeline: it verifies exactly as before and,
for a valid pass, hands ``holder_ref`` and the pass's masked name to a callback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from edge.verify.base import HealthCodeVerifier
from models.events import HealthCodeObservation, VerificationStatus
from models.passes import PassFormatError, parse_pass

NameSink = Callable[[str, str], None]
"""Receives ``(holder_ref, name_masked)``."""


class NameTap:
    """A verifier that also reports the masked name of each valid pass it verified."""

    def __init__(self, inner: HealthCodeVerifier, sink: NameSink) -> None:
        self.inner = inner
        self.format = inner.format
        self._sink = sink

    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """The inner verifier's result, unchanged."""
        result = self.inner.verify(text, seen_at)
        if result.status is VerificationStatus.VALID and result.holder_ref:
            try:
                claims = parse_pass(text).claims
            except PassFormatError:
                return result
            if claims.holder_ref == result.holder_ref:
                self._sink(result.holder_ref, claims.name_masked)
        return result
