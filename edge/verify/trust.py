"""Issuer public keys and revoked passes the edge trusts, cached on disk.

File format (JSON): ``{"version": "...", "issuers": [{"kid": "...", "public_key_pem": "..."}],
"revoked": ["<pass id>", ...]}``. The hub distributes it on a retained topic.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field


class IssuerKey(BaseModel):
    """One trusted issuer key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kid: str = Field(min_length=1, max_length=64)
    public_key_pem: str = Field(max_length=4096)


class TrustListDocument(BaseModel):
    """The trust list as stored and distributed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(max_length=64)
    issuers: list[IssuerKey] = Field(default_factory=list, max_length=1000)
    revoked: list[str] = Field(default_factory=list, max_length=1_000_000)


class TrustStore:
    """Thread-safe view of the current trust list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._revoked: frozenset[str] = frozenset()
        self.version: str | None = None

    def replace(self, document: TrustListDocument) -> None:
        """Swap in a new trust list; keys that are not P-256 public keys are refused."""
        keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for issuer in document.issuers:
            key = serialization.load_pem_public_key(issuer.public_key_pem.encode())
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                raise ValueError(f"issuer {issuer.kid}: not an ECDSA P-256 public key")
            keys[issuer.kid] = key
        with self._lock:
            self._keys, self._revoked = keys, frozenset(document.revoked)
            self.version = document.version

    def key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The public key of issuer ``kid``, if trusted."""
        with self._lock:
            return self._keys.get(kid)

    def is_revoked(self, pass_id: str) -> bool:
        """The pass was revoked."""
        with self._lock:
            return pass_id in self._revoked

    @classmethod
    def load(cls, path: Path) -> TrustStore:
        """Read a cached trust list; an absent file gives an empty store."""
        store = cls()
        if path.is_file():
            store.replace(TrustListDocument.model_validate_json(path.read_text("utf-8")))
        return store
