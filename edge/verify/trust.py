"""Issuer public keys and revoked passes the edge trusts: the hub-signed trust list in force.

The hub distributes :class:`models.trust.SignedTrustList` on a retained topic; the edge
checks it against the pinned hub key, applies it only when newer, and caches it on disk.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from models.keys import parse_public_pem
from models.trust import SignedTrustList, TrustListDocument, verify_trust_list


class TrustStore:
    """Thread-safe view of the current trust list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._revoked: frozenset[str] = frozenset()
        self.version: int | None = None
        self.document: TrustListDocument | None = None

    def replace(self, document: TrustListDocument) -> None:
        """Swap in a new trust list; keys that are not P-256 public keys are refused."""
        keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for issuer in document.issuers:
            keys[issuer.kid] = parse_public_pem(
                issuer.public_key_pem.encode(), f"issuer {issuer.kid}"
            )
        with self._lock:
            self._keys, self._revoked = keys, frozenset(document.revoked)
            self.version = document.version
            self.document = document

    def key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The public key of issuer ``kid``, if trusted."""
        with self._lock:
            return self._keys.get(kid)

    def is_revoked(self, pass_id: str) -> bool:
        """The pass was revoked."""
        with self._lock:
            return pass_id in self._revoked

    def apply_signed(
        self, signed: SignedTrustList, hub_key: ec.EllipticCurvePublicKey, cache: Path | None
    ) -> bool:
        """Verify and apply a hub-signed list if newer; cache it. False when not newer."""
        verify_trust_list(signed, hub_key)
        if self.version is not None and signed.document.version <= self.version:
            return False
        self.replace(signed.document)
        if cache is not None:
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(signed.model_dump_json(), encoding="utf-8")
            tmp.replace(cache)
        return True

    @classmethod
    def load(cls, path: Path, hub_key: ec.EllipticCurvePublicKey | None = None) -> TrustStore:
        """Read a cached signed trust list (verified when ``hub_key`` is given)."""
        store = cls()
        if path.is_file():
            signed = SignedTrustList.model_validate_json(path.read_text("utf-8"))
            if hub_key is not None:
                verify_trust_list(signed, hub_key)
            store.replace(signed.document)
        return store
