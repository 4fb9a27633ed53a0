"""The trust list of health-code issuers, signed by the hub and retained on its topic.

Edges pin the hub's public key and accept only a trust list whose ES256 signature over the
canonical JSON of the document verifies, and whose version is newer than the one they have.
Besides gridgate's own issuers it carries EU DCC signer certificates (by COSE kid) and
SMART Health Card issuers (by ``iss``, with their public JWKs and revoked ``rid`` values).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Annotated, Literal

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


DccKid = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9+/]{11}=$",
        title="DCC key id",
        description="Base64 of the 8-byte COSE kid: the first 8 bytes of the DSC's SHA-256.",
    ),
]
Base64Url = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]
"""32 bytes, base64url without padding: a P-256 coordinate or a JWK thumbprint."""
Rid = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}(\.[0-9]{1,12})?$")]
ShcIss = Annotated[
    str,
    Field(
        pattern=r"^https://[^\s?#]+[^\s?#/]$",
        max_length=256,
        title="SHC issuer",
        description="The card's ``iss``: an https URL without a trailing slash.",
    ),
]


class DccSigner(WireModel):
    """One EU DCC document signer certificate (DSC)."""

    certificate: str = Field(
        min_length=16,
        max_length=8192,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        title="Certificate",
        description="The X.509 certificate, DER in base64.",
    )
    country: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        title="Country",
        description="ISO 3166-1 alpha-2 code of the issuing state, when known.",
    )

    def der(self) -> bytes:
        """The certificate's DER bytes."""
        return base64.b64decode(self.certificate, validate=True)


class ShcKey(WireModel):
    """One SMART Health Card issuer key: a public EC P-256 JWK."""

    kty: Literal["EC"] = Field(title="Key type")
    crv: Literal["P-256"] = Field(title="Curve")
    x: Base64Url = Field(title="X coordinate")
    y: Base64Url = Field(title="Y coordinate")
    kid: Base64Url = Field(title="Key id", description="The RFC 7638 thumbprint of the key.")

    def thumbprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint, base64url: what ``kid`` must be."""
        members = json.dumps(
            {"crv": self.crv, "kty": self.kty, "x": self.x, "y": self.y},
            sort_keys=True,
            separators=(",", ":"),
        )
        return _b64url(hashlib.sha256(members.encode()).digest())

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The key; ``ValueError`` when the point is not on P-256 or ``kid`` is wrong."""
        if self.kid != self.thumbprint():
            raise ValueError(f"SHC key {self.kid}: kid is not the key's thumbprint")
        x, y = (int.from_bytes(_b64url_decode(c), "big") for c in (self.x, self.y))
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


class ShcIssuer(WireModel):
    """A SMART Health Card issuer's keys and the card ``rid`` values it revoked."""

    keys: list[ShcKey] = Field(min_length=1, max_length=32, title="Public keys (JWK)")
    revoked_rids: dict[Base64Url, Annotated[list[Rid], Field(max_length=100_000)]] = Field(
        default_factory=dict,
        max_length=32,
        title="Revoked rids by kid",
        description="Per key id: 'rid', or 'rid.<epoch seconds>' (cards with nbf before it).",
    )


class TrustListDocument(WireModel):
    """Issuers and revoked passes at one version."""

    version: int = Field(ge=0, title="Version", description="Increases with every change.")
    issued_at: Timestamp
    issuers: list[IssuerKey] = Field(default_factory=list, max_length=1000)
    revoked: list[str] = Field(default_factory=list, max_length=200_000, title="Revoked pass ids")
    dcc_signers: dict[DccKid, DccSigner] = Field(
        default_factory=dict,
        max_length=5000,
        title="EU DCC signers",
        description="Document signer certificates by base64 kid.",
    )
    shc_issuers: dict[ShcIss, ShcIssuer] = Field(
        default_factory=dict,
        max_length=1000,
        title="SMART Health Card issuers",
        description="Issuers by ``iss`` URL.",
    )


class SignedTrustList(WireModel):
    """A trust list with the hub's detached ES256 signature."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    document: TrustListDocument
    signer_kid: str = Field(max_length=64)
    signature: str = Field(max_length=200, description="base64url raw r||s over the document.")


class TrustListSignatureError(ValueError):
    """The trust list's signature does not verify against the pinned hub key."""


_OPTIONAL_SECTIONS = ("dcc_signers", "shc_issuers")
"""Left out of the signed form while empty, so lists signed before they existed still verify."""


def dcc_kid(der: bytes) -> str:
    """The base64 COSE kid of a DSC: the first 8 bytes of its SHA-256 fingerprint."""
    return base64.b64encode(hashlib.sha256(der).digest()[:8]).decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(document: TrustListDocument) -> bytes:
    body = document.model_dump(mode="json")
    for section in _OPTIONAL_SECTIONS:
        if not body[section]:
            del body[section]
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
