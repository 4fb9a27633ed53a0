"""SMART Health Card decoding: numeric QR text → compact JWS → header, payload, signature.

``shc:/`` is followed by two digits per JWS character (``ord(c) - 45``). The JWS header
must say ES256 and ``zip: DEF``; the payload is raw DEFLATE of the JSON claims. A card too
large for one QR code may be split into chunks ``shc:/<i>/<n>/…`` (deprecated by the
spec): :func:`numeric_to_jws` refuses a single chunk with :class:`ChunkedCardError`, and
:func:`join_chunks` reassembles a complete set into one ``shc:/`` text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge.verify.inflate import InflateError, inflate

PREFIX: Final = "shc:/"
MAX_TEXT_CHARS: Final = 16_384
"""Numeric text of a whole card (a chunked card joined: at most three QR codes of 4,296)."""
MAX_HEADER_CHARS: Final = 1024
MAX_EPOCH: Final = 253_402_300_799.0
HEALTH_CARD_TYPE: Final = "https://smarthealth.cards#health-card"
_DIGITS_RE: Final = re.compile(r"[0-9]+")
_CHUNK_RE: Final = re.compile(r"shc:/([0-9]{1,2})/([0-9]{1,2})/([0-9]+)")
_B64URL_RE: Final = re.compile(r"[A-Za-z0-9_-]*")


JOSE_ALGORITHMS: Final = frozenset(
    f"{family}{bits}" for family in ("HS", "RS", "ES", "PS") for bits in (256, 384, 512)
) | {"EdDSA", "ES256K"}
"""Registered JWS signature algorithms: another one than ES256 is unsupported, not malformed
(``none`` and unknown names are malformed)."""


class ShcFormatError(ValueError):
    """Not a well-formed SMART Health Card."""


class UnsupportedCardError(ShcFormatError):
    """A well-formed card this verifier does not handle (a chunk, another JWS algorithm)."""


class ChunkedCardError(UnsupportedCardError):
    """One chunk of a card split over several QR codes."""


class ShcHeader(BaseModel):
    """The JWS protected header."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    alg: str = Field(max_length=16, description="Must be ES256.")
    zip: str | None = Field(None, max_length=16, description="Must be DEF.")
    kid: str = Field(min_length=1, max_length=128, description="The key's JWK thumbprint.")


class CredentialSubject(BaseModel):
    """The FHIR content of the card."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    fhirVersion: str | None = Field(None, max_length=32)  # noqa: N815 - the spec's name
    fhirBundle: dict[str, Any]  # noqa: N815 - the spec's name


class Credential(BaseModel):
    """The verifiable credential the card carries."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: list[str] = Field(max_length=16)
    credentialSubject: CredentialSubject  # noqa: N815 - the spec's name
    rid: str | None = Field(None, max_length=64, description="Revocation id.")


class ShcClaims(BaseModel):
    """The JWS payload: issuer, validity and the credential."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    iss: str = Field(min_length=1, max_length=256, description="Issuer URL.")
    nbf: float = Field(ge=0, le=MAX_EPOCH, description="Issued (not before), Unix seconds.")
    exp: float | None = Field(None, ge=0, le=MAX_EPOCH, description="Expiry, Unix seconds.")
    vc: Credential

    def completed_immunizations(self) -> int:
        """Immunization resources with status ``completed`` in the FHIR bundle."""
        entries = self.vc.credentialSubject.fhirBundle.get("entry")
        if not isinstance(entries, list):
            return 0
        return sum(
            1
            for entry in entries
            if isinstance(entry, dict)
            and isinstance(resource := entry.get("resource"), dict)
            and resource.get("resourceType") == "Immunization"
            and resource.get("status") == "completed"
        )


@dataclass(frozen=True)
class ShcCard:
    """A decoded card, signature not yet checked."""

    header: ShcHeader
    claims: ShcClaims
    signing_input: bytes
    signature: bytes


def numeric_to_jws(text: str) -> str:
    """The compact JWS in a ``shc:/`` text; :class:`ShcFormatError`."""
    if len(text) > MAX_TEXT_CHARS:
        raise ShcFormatError(f"longer than {MAX_TEXT_CHARS} characters")
    if not text.startswith(PREFIX):
        raise ShcFormatError(f"does not start with {PREFIX}")
    body = text[len(PREFIX) :]
    if _CHUNK_RE.fullmatch(text):
        raise ChunkedCardError("one chunk of a card split over several QR codes")
    if not _DIGITS_RE.fullmatch(body) or len(body) % 2:
        raise ShcFormatError("not an even number of digits")
    values = [int(body[i : i + 2]) for i in range(0, len(body), 2)]
    if max(values) > ord("z") - 45:
        raise ShcFormatError("a digit pair beyond 'z'")
    return "".join(chr(value + 45) for value in values)


def join_chunks(texts: Iterable[str]) -> str:
    """One ``shc:/`` text from every chunk ``shc:/<i>/<n>/…`` of a card, in any order."""
    parts: dict[int, str] = {}
    total: int | None = None
    for text in texts:
        match = _CHUNK_RE.fullmatch(text)
        if match is None:
            raise ShcFormatError("not a chunk of a multi-chunk card")
        index, count = int(match[1]), int(match[2])
        if total not in (None, count) or not 1 <= index <= count:
            raise ShcFormatError("chunks of different cards")
        total = count
        parts[index] = match[3]
    if total is None or sorted(parts) != list(range(1, total + 1)):
        raise ShcFormatError("the set of chunks is incomplete")
    return PREFIX + "".join(parts[i] for i in range(1, total + 1))


def _b64url(text: str) -> bytes:
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ShcFormatError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ShcFormatError("not base64url") from None


def _json(data: bytes, what: str) -> object:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ShcFormatError(f"the {what} is not JSON") from None


def parse_jws(jws: str) -> ShcCard:
    """Split and decode a card's compact JWS without checking the signature."""
    parts = jws.split(".")
    if len(parts) != 3:
        raise ShcFormatError("not a compact JWS of three parts")
    header_text, payload_text, signature_text = parts
    if len(header_text) > MAX_HEADER_CHARS:
        raise ShcFormatError("the JWS header is too long")
    try:
        header = ShcHeader.model_validate(_json(_b64url(header_text), "header"))
    except ValidationError:
        raise ShcFormatError("the JWS header lacks alg or kid") from None
    if header.alg != "ES256" and header.alg in JOSE_ALGORITHMS:
        raise UnsupportedCardError(f"JWS algorithm {header.alg} (SMART Health Cards use ES256)")
    if header.alg != "ES256" or header.zip != "DEF":
        raise ShcFormatError("the JWS header must say alg ES256 and zip DEF")
    try:
        payload = inflate(_b64url(payload_text), raw=True)
        claims = ShcClaims.model_validate(_json(payload, "payload"))
    except InflateError as exc:
        raise ShcFormatError(f"payload: {exc}") from None
    except ValidationError as exc:
        raise ShcFormatError(f"payload: {str(exc).splitlines()[0]}") from None
    if HEALTH_CARD_TYPE not in claims.vc.type:
        raise ShcFormatError("the credential is not a health card")
    return ShcCard(
        header=header,
        claims=claims,
        signing_input=f"{header_text}.{payload_text}".encode("ascii"),
        signature=_b64url(signature_text),
    )
