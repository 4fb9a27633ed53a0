"""gridgate's own signed health pass (``GGHC1:``): compact enough for a QR code.

Token: ``GGHC1:<payload>.<signature>``, both base64url without padding. The payload is
compact JSON of :class:`PassClaims`; the signature is ES256 (ECDSA P-256, SHA-256, raw
``r || s``) over the ASCII text ``GGHC1:<payload>``. The holder is named only by the keyed
hash of their ID number and a masked name.
"""

from __future__ import annotations

import base64
import binascii
import json
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.events import CodeColour

PREFIX = "GGHC1:"
MAX_TOKEN_CHARS = 2048
_COORD = 32


class TripRisk(StrEnum):
    """Worst risk level of areas visited in the last 7 days."""

    NONE = "none"
    MEDIUM = "medium"
    HIGH = "high"


class TestResult(StrEnum):
    """Result of the holder's last test."""

    __test__ = False  # not a pytest test class
    NEGATIVE = "neg"
    POSITIVE = "pos"


class PassClaims(BaseModel):
    """What a pass asserts. Short aliases keep the QR code small."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    pass_id: str = Field(alias="i", min_length=4, max_length=32, description="For revocation.")
    kid: str = Field(alias="k", min_length=1, max_length=64, description="Issuer key id.")
    holder_ref: str = Field(alias="h", max_length=128, description="Keyed hash of the ID.")
    name_masked: str = Field("", alias="n", max_length=32)
    colour: CodeColour = Field(alias="c")
    issued_at: int = Field(alias="iat", ge=0, description="Unix seconds.")
    expires_at: int = Field(alias="exp", ge=0, description="Unix seconds.")
    test_at: int | None = Field(None, alias="ta", ge=0, description="Last test, Unix seconds.")
    test_result: TestResult | None = Field(None, alias="tr")
    doses: int = Field(0, alias="d", ge=0, le=20, description="Vaccination doses.")
    trip_risk: TripRisk = Field(TripRisk.NONE, alias="r")


class PassFormatError(ValueError):
    """The text is not a well-formed GGHC1 token."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text or any(ch in text for ch in "=+/ \n"):
        raise PassFormatError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PassFormatError(f"not base64url: {exc}") from None


def sign_pass(claims: PassClaims, key: ec.EllipticCurvePrivateKey) -> str:
    """Issue a token for ``claims`` signed with ``key``."""
    body = claims.model_dump(mode="json", by_alias=True, exclude_none=True)
    payload = _b64encode(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = f"{PREFIX}{payload}"
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{_b64encode(r.to_bytes(_COORD, 'big') + s.to_bytes(_COORD, 'big'))}"


class ParsedPass:
    """A token split into its claims and the parts the signature covers."""

    def __init__(self, claims: PassClaims, signing_input: bytes, signature: bytes) -> None:
        self.claims = claims
        self.signing_input = signing_input
        self.signature = signature

    def signature_valid(self, public_key: ec.EllipticCurvePublicKey) -> bool:
        """Check the ES256 signature against ``public_key``."""
        if len(self.signature) != 2 * _COORD:
            return False
        r = int.from_bytes(self.signature[:_COORD], "big")
        s = int.from_bytes(self.signature[_COORD:], "big")
        try:
            public_key.verify(
                encode_dss_signature(r, s), self.signing_input, ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            return False
        return True


def parse_pass(text: str) -> ParsedPass:
    """Split and decode a token without checking its signature; :class:`PassFormatError`."""
    if len(text) > MAX_TOKEN_CHARS:
        raise PassFormatError(f"longer than {MAX_TOKEN_CHARS} characters")
    if not text.startswith(PREFIX):
        raise PassFormatError(f"does not start with {PREFIX}")
    signing_input, dot, signature_text = text.rpartition(".")
    if not dot:
        raise PassFormatError("no signature part")
    payload = signing_input[len(PREFIX) :]
    try:
        body = json.loads(_b64decode(payload).decode("utf-8"))
        claims = PassClaims.model_validate(body)
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        raise PassFormatError(f"bad payload: {str(exc).splitlines()[0]}") from None
    except RecursionError:  # e.g. "[" * 1200: too deep for the JSON parser
        raise PassFormatError("bad payload: nested too deeply") from None
    if not isinstance(body, dict):
        raise PassFormatError("payload is not an object")
    return ParsedPass(claims, signing_input.encode("ascii"), _b64decode(signature_text))
