"""Issuer public keys and revoked passes the edge trusts: the hub-signed trust list in force.

The hub distributes :class:`models.trust.SignedTrustList` on a retained topic; the edge
checks it against the pinned hub key, applies it only when newer, and caches it on disk.
Several hub keys may be pinned (:class:`PinnedHubKeys`) so the hub can rotate its own key:
a list is checked against the pinned key named by its ``signer_kid``.
Every key in it is parsed when the list is applied: one unusable entry (a PEM that is not
P-256, a DSC that is not a certificate or not under its kid, a JWK off the curve or not
under its thumbprint) refuses the whole list, and the one in force stays.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from edge.verify.dcc_signers import DccSignerKey, load_signer
from models.keys import load_public, parse_public_pem
from models.trust import (
    ShcIssuer,
    SignedTrustList,
    TrustListDocument,
    TrustListSignatureError,
    verify_trust_list,
)

HubKey = ec.EllipticCurvePublicKey


class TrustEntryError(ValueError):
    """An entry of a trust list that cannot be used; the list is not applied."""


@dataclass(frozen=True)
class TrustedShcKey:
    """A trusted SMART Health Card key and the rids revoked under it."""

    iss: str
    kid: str
    public_key: ec.EllipticCurvePublicKey
    revoked: dict[str, float | None]
    """rid → cut-off (cards with ``nbf`` before it are revoked); None: every card."""

    def is_revoked(self, rid: str | None, nbf: float) -> bool:
        """The card with ``rid`` issued at ``nbf`` was revoked."""
        if rid is None or rid not in self.revoked:
            return False
        cutoff = self.revoked[rid]
        return cutoff is None or nbf < cutoff


def _shc_keys(iss: str, issuer: ShcIssuer) -> dict[tuple[str, str], TrustedShcKey]:
    keys = {}
    for jwk in issuer.keys:
        try:
            public_key = jwk.public_key()
        except ValueError as exc:
            raise TrustEntryError(f"SHC issuer {iss}: {exc}") from None
        revoked: dict[str, float | None] = {}
        for entry in issuer.revoked_rids.get(jwk.kid, []):
            rid, _, text = entry.partition(".")
            cutoff = float(text) if text else None
            if rid not in revoked:
                revoked[rid] = cutoff
            elif revoked[rid] is not None:  # the widest revocation of a rid wins
                revoked[rid] = None if cutoff is None else max(cutoff, revoked[rid] or 0)
        keys[iss, jwk.kid] = TrustedShcKey(iss, jwk.kid, public_key, revoked)
    return keys


def key_file_kid(path: Path) -> str:
    """The key id a key file is named after: ``<kid>.pub.pem`` (or ``<kid>.pem``)."""
    return path.name.removesuffix(".pem").removesuffix(".pub")


class PinnedHubKeys:
    """The hub keys an edge trusts lists from, by key id (old and new during a rotation)."""

    def __init__(self, keys: dict[str, HubKey]) -> None:
        if not keys:
            raise ValueError("pin at least one hub key")
        self.keys = dict(keys)

    @classmethod
    def from_files(cls, paths: list[Path]) -> PinnedHubKeys:
        """Read PEM files named ``<kid>.pub.pem``; :class:`models.keys.KeyFileError`."""
        return cls({key_file_kid(path): load_public(path) for path in paths})

    def for_list(self, signed: SignedTrustList) -> HubKey:
        """The key to check ``signed`` with: the one pinned under its ``signer_kid``.

        A single pinned key is used whatever its file is called (configs from before
        rotation); among several, a list by an unpinned kid is refused.
        """
        key = self.keys.get(signed.signer_kid)
        if key is not None:
            return key
        if len(self.keys) == 1:
            return next(iter(self.keys.values()))
        pinned = ", ".join(sorted(self.keys))
        raise TrustListSignatureError(
            f"trust list signed by hub key {signed.signer_kid!r}, not one pinned ({pinned})"
        )


def _verify(signed: SignedTrustList, hub_key: HubKey | PinnedHubKeys) -> None:
    if isinstance(hub_key, PinnedHubKeys):
        hub_key = hub_key.for_list(signed)
    verify_trust_list(signed, hub_key)


class TrustStore:
    """Thread-safe view of the current trust list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._revoked: frozenset[str] = frozenset()
        self._dcc: dict[str, DccSignerKey] = {}
        self._shc: dict[tuple[str, str], TrustedShcKey] = {}
        self.version: int | None = None
        self.synced_at: datetime | None = None
        """When a hub-signed list last arrived (or the cache was written)."""
        self.document: TrustListDocument | None = None

    def replace(self, document: TrustListDocument) -> None:
        """Swap in a new trust list; a list with any unusable key is refused (ValueError)."""
        keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for issuer in document.issuers:
            keys[issuer.kid] = parse_public_pem(
                issuer.public_key_pem.encode(), f"issuer {issuer.kid}"
            )
        try:
            dcc = {kid: load_signer(kid, entry) for kid, entry in document.dcc_signers.items()}
        except ValueError as exc:
            raise TrustEntryError(str(exc)) from None
        shc: dict[tuple[str, str], TrustedShcKey] = {}
        for iss, shc_issuer in document.shc_issuers.items():
            shc.update(_shc_keys(iss, shc_issuer))
        with self._lock:
            self._keys, self._revoked = keys, frozenset(document.revoked)
            self._dcc, self._shc = dcc, shc
            self.version = document.version
            self.document = document

    def key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The public key of issuer ``kid``, if trusted."""
        with self._lock:
            return self._keys.get(kid)

    def dcc_signer(self, kid: str) -> DccSignerKey | None:
        """The EU DCC signer under base64 ``kid``, if trusted."""
        with self._lock:
            return self._dcc.get(kid)

    def shc_key(self, iss: str, kid: str) -> TrustedShcKey | None:
        """The SMART Health Card key ``kid`` of issuer ``iss``, if trusted."""
        with self._lock:
            return self._shc.get((iss, kid))

    def is_revoked(self, pass_id: str) -> bool:
        """The pass was revoked."""
        with self._lock:
            return pass_id in self._revoked

    def apply_signed(
        self, signed: SignedTrustList, hub_key: HubKey | PinnedHubKeys, cache: Path | None
    ) -> bool:
        """Verify and apply a hub-signed list if newer; cache it. False when not newer."""
        _verify(signed, hub_key)
        self.synced_at = datetime.now(UTC)  # the hub confirmed the list, newer or not
        if self.version is not None and signed.document.version <= self.version:
            if cache is not None and cache.is_file():
                os.utime(cache)  # the cache's age is the last sync, across restarts
            return False
        self.replace(signed.document)
        if cache is not None:
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(signed.model_dump_json(), encoding="utf-8")
            tmp.replace(cache)
        return True

    @classmethod
    def load(cls, path: Path, hub_key: HubKey | PinnedHubKeys | None = None) -> TrustStore:
        """Read a cached signed trust list (verified when ``hub_key`` is given)."""
        store = cls()
        if path.is_file():
            signed = SignedTrustList.model_validate_json(path.read_text("utf-8"))
            if hub_key is not None:
                _verify(signed, hub_key)
            store.replace(signed.document)
            store.synced_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return store
