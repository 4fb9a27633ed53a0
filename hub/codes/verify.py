"""The hub verifies health codes as an edge does: the same classifier and verifier registry.

The trust list is the one the hub signed (``codes trust-list --out``), checked against the
hub's own public key(s) when given. Codes the classifier does not route to a registered
offline verifier (platform codes, plates, text) get no verdict.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from edge.decoders.payloads import HealthCode, PayloadClassifier
from edge.verify.base import VERIFIER_MODULES, HealthCodeVerifier
from edge.verify.base import verifiers as verifier_registry
from edge.verify.policy import CodePolicy
from edge.verify.trust import PinnedHubKeys, TrustStore
from models.events import HealthCodeFormat, HealthCodeObservation
from models.trust import SignedTrustList


class TrustListFileError(ValueError):
    """A trust-list file that cannot be read or whose signature does not verify."""


def load_trust_list(path: Path, hub_keys: list[Path] | None = None) -> TrustStore:
    """The signed trust list at ``path`` (verified against ``hub_keys`` when given)."""
    try:
        signed = SignedTrustList.model_validate_json(path.read_text("utf-8"))
        store = TrustStore()
        if hub_keys:
            store.apply_signed(signed, PinnedHubKeys.from_files(hub_keys), None)
        else:
            store.replace(signed.document)
    except (OSError, ValidationError, ValueError) as exc:
        raise TrustListFileError(f"{path}: {str(exc).splitlines()[0]}") from None
    return store


class CodeChecker:
    """Routes a code by prefix and verifies it offline against one trust store."""

    def __init__(self, trust: TrustStore, policy: CodePolicy | None = None) -> None:
        self.trust = trust
        self.classifier = PayloadClassifier()
        verifier_registry.load(VERIFIER_MODULES)
        self._verifiers: dict[HealthCodeFormat, HealthCodeVerifier] = {
            HealthCodeFormat(name): verifier_registry.create(name, trust, policy or CodePolicy())
            for name in verifier_registry.factories(VERIFIER_MODULES)
        }

    def check(self, text: str, seen_at: datetime) -> HealthCodeObservation | None:
        """The verdict on ``text``; None when it is not a code verified offline."""
        routed = self.classifier.classify(text)
        if not isinstance(routed, HealthCode) or routed.format not in self._verifiers:
            return None
        return self._verifiers[routed.format].verify(routed.text, seen_at)
