"""The trust list of health-code issuers, signed by the hub and retained on its topic.

Edges pin the hub's public key and accept only a trust list whose ES256 signature over the
canonical JSON of the document verifies, and whose version is newer than the one they have.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from pydantic import Field

from models.base import SCHEMA_VERSION, SchemaVersion, Timestamp, WireModel


class IssuerKey(WireModel):
    """One trusted issuer key (ECDSA P-256, PEM)."""

    kid: str = Field(min_length=1, max_length=64, title="Key id")
    public_key_pem: str = Field(max_length=4096, title="Public key (PEM)")


class TrustListDocument(WireModel):
    """Issuers and revoked passes at one version."""

    version: int = Field(ge=0, title="Version", description="Increases with every change.")
    issued_at: Timestamp
    issuers: list[IssuerKey] = Field(default_factory=list, max_length=1000)
    revoked: list[str] = Field(default_factory=list, max_length=200_000, title="Revoked pass ids")


class SignedTrustList(WireModel):
    """A trust list with the hub's detached ES256 signature."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    document: TrustListDocument
    signer_kid: str = Field(max_length=64)
    signature: str = Field(max_length=200, description="base64url raw r||s over the document.")


class TrustListSignatureError(ValueError):
    """The trust list's signature does not verify against the pinned hub key."""


def _canonical(document: TrustListDocument) -> bytes:
    body = document.model_dump(mode="json")
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_trust_list(
    document: TrustListDocument, key: ec.EllipticCurvePrivateKey, signer_kid: str
) -> SignedTrustList:
    """Sign ``document`` with the hub's key."""
    r, s = decode_dss_signature(key.sign(_canonical(document), ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    signature = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return SignedTrustList(document=document, signer_kid=signer_kid, signature=signature)


def verify_trust_list(signed: SignedTrustList, hub_key: ec.EllipticCurvePublicKey) -> None:
    """Raise :class:`TrustListSignatureError` unless the hub signed this exact document."""
    try:
        raw = base64.urlsafe_b64decode(signed.signature + "=" * (-len(signed.signature) % 4))
    except (binascii.Error, ValueError):
        raise TrustListSignatureError("signature is not base64url") from None
    if len(raw) != 64:
        raise TrustListSignatureError("signature has the wrong length")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        hub_key.verify(der, _canonical(signed.document), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise TrustListSignatureError("signature does not verify") from None
