"""Kiosk self-registration: what a kiosk sends when a person agrees, and the hub's answer.

A person scans their door plate and their gridgate pass, reads the consent text, agrees,
and has their face captured. Only the 128-d encoding travels, never a photo. The request is
idempotent by ``request_id`` (UUIDv7) and kept in the kiosk's outbox until a
:class:`RegistrationAck` names it.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from models.base import SCHEMA_VERSION, EventId, Identifier, SchemaVersion, Timestamp, WireModel
from models.events import FaceEncoding, HealthCodeObservation, VerificationStatus

ADDRESS_CODE_PATTERN = r"^[0-9A-Za-z_-]{4,64}$"


class Consent(WireModel):
    """The consent the person accepted on the kiosk's screen."""

    text_version: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$",
        title="Consent text version",
        description="Version of the consent text shown (zh and en share one version).",
    )
    accepted_at: Timestamp = Field(title="Accepted at", description="When 'I agree' was pressed.")


class RegistrationRequest(WireModel):
    """A pending self-registration: door plate, verified pass, one face encoding, consent."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    request_id: EventId
    device_id: Identifier
    site_id: Identifier
    address_code: str = Field(
        pattern=ADDRESS_CODE_PATTERN,
        title="Address code",
        description="From the scanned door plate.",
    )
    health_code: HealthCodeObservation = Field(
        title="Verified pass",
        description="The verifier's result; must be valid and name its holder.",
    )
    name_masked: str = Field(
        "", max_length=32, title="Masked name", description="As printed in the pass, e.g. 张*."
    )
    face_encoding: FaceEncoding
    face_quality: float = Field(
        ge=0, le=1, title="Face quality", description="Quality of the tracked face, 0..1."
    )
    consent: Consent = Field(title="Consent", description="Required: no consent, no request.")
    created_at: Timestamp

    @model_validator(mode="after")
    def _verified_holder(self) -> RegistrationRequest:
        code = self.health_code
        if code.status is not VerificationStatus.VALID:
            raise ValueError(f"the pass must be verified valid, not {code.status}")
        if not code.holder_ref:
            raise ValueError("the pass must name its holder (holder_ref)")
        return self


class RegistrationAck(WireModel):
    """The hub took a request (pending review) or refused it for good; the kiosk forgets it."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    device_id: Identifier
    request_id: EventId
    accepted: bool = Field(title="Accepted", description="Stored as pending (or already was).")
    reason: str | None = Field(
        None, max_length=200, title="Reason", description="Why a request was refused."
    )
    acked_at: Timestamp
