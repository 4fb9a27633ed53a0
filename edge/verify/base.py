"""The verifier protocol: raw QR text in, a :class:`HealthCodeObservation` out, never raising.

Every verifier registered in :data:`verifiers` has its ``verify`` wrapped by
:func:`never_raises` at registration, so a bug or an input nobody foresaw (a parser's
``RecursionError``, say) becomes an invalid / malformed observation, logged once per
verifier and exception type, instead of an exception in the camera loop.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from edge.registry import Registry
from models.events import HealthCodeFormat, HealthCodeObservation, ReasonCode, VerificationStatus

log = logging.getLogger(__name__)


class HealthCodeVerifier(Protocol):
    """Checks one health-code format offline (or online, for platform codes)."""

    format: HealthCodeFormat

    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """Verify ``text``; every failure is a reason code in the result, not an exception."""
        ...


VerifierT = TypeVar("VerifierT", bound=HealthCodeVerifier)
Factory = Callable[..., HealthCodeVerifier]

_logged: set[tuple[str, str]] = set()
_logged_lock = threading.Lock()


def _log_once(verifier: object, exc: Exception) -> None:
    seen = (type(verifier).__name__, type(exc).__name__)
    with _logged_lock:
        first = seen not in _logged
        _logged.add(seen)
    if first:
        log.error("health-code verifier %s raised %s; answering malformed", *seen, exc_info=exc)
    else:
        log.debug("health-code verifier %s raised %s again", *seen)


def never_raises(
    verify: Callable[[VerifierT, str, datetime], HealthCodeObservation],
) -> Callable[[VerifierT, str, datetime], HealthCodeObservation]:
    """Wrap a ``verify`` method: an exception becomes invalid / malformed (logged once)."""
    if getattr(verify, "__never_raises__", False):
        return verify

    @functools.wraps(verify)
    def guarded(self: VerifierT, text: str, seen_at: datetime) -> HealthCodeObservation:
        try:
            return verify(self, text, seen_at)
        except Exception as exc:  # the protocol promises no exception escapes
            _log_once(self, exc)
            return HealthCodeObservation(
                format=self.format,
                status=VerificationStatus.INVALID,
                reason_codes=[ReasonCode.MALFORMED],
                policy_passed=False,
                seen_at=seen_at,
            )

    guarded.__never_raises__ = True  # type: ignore[attr-defined]
    return guarded


class VerifierRegistry(Registry[HealthCodeVerifier]):
    """The registry of verifiers: a registered class's ``verify`` is guarded."""

    def register(self, name: str) -> Callable[[Factory], Factory]:
        """Decorator: register the verifier class ``factory`` under ``name``, guarded."""
        add = super().register(name)

        def decorate(factory: Factory) -> Factory:
            method = getattr(factory, "verify", None)
            if isinstance(factory, type) and callable(method):
                setattr(factory, "verify", never_raises(method))  # noqa: B010
            return add(factory)

        return decorate


verifiers: Registry[HealthCodeVerifier] = VerifierRegistry("health-code verifier")
"""Factories take ``(trust: TrustStore, policy: CodePolicy)``; names are HealthCodeFormat values."""
VERIFIER_MODULES = ("edge.verify.gridgate", "edge.verify.eu_dcc", "edge.verify.shc")
