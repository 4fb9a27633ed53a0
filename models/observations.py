"""What an edge agent observes at a gate: faces, health codes, door plates, and their results."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from models.base import Timestamp, WireModel

FACE_ENCODING_DIMENSIONS = 128
MAX_CROP_BASE64_CHARS = 96_000
MAX_OBSERVATIONS = 32


class CodeColour(StrEnum):
    """Health-code colour."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class HealthCodeFormat(StrEnum):
    """Which kind of health code was scanned."""

    GRIDGATE = "gridgate"
    EU_DCC = "eu_dcc"
    SMART_HEALTH_CARD = "smart_health_card"
    ONLINE = "online"
    UNKNOWN = "unknown"


class VerificationStatus(StrEnum):
    """Outcome of checking a health code."""

    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIED = "unverified"


class ReasonCode(StrEnum):
    """Why a health code was not accepted as valid."""

    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_ISSUER = "unknown_issuer"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    PLATFORM_UNREACHABLE = "platform_unreachable"
    HOLDER_MISMATCH = "holder_mismatch"


class FaceDecision(StrEnum):
    """The two-threshold decision against a gallery: never the nearest beyond tolerance."""

    KNOWN = "known"
    UNDECIDED = "undecided"
    UNKNOWN = "unknown"
    NOT_CHECKED = "not_checked"


ENCODING_DECIMALS = 6
"""Decimals a face encoding travels with: 40% fewer bytes than full floats (and faster to
parse), while a distance moves by less than 1e-5, far inside the thresholds' 0.05 gap."""


FaceEncoding = Annotated[
    list[Annotated[float, Field(allow_inf_nan=False)]],  # finite, checked in pydantic-core
    Field(
        min_length=FACE_ENCODING_DIMENSIONS,
        max_length=FACE_ENCODING_DIMENSIONS,
        description="dlib 128-d face encoding (biometric data: encodings, not photos, by default).",
    ),
]


class Liveness(WireModel):
    """Whether a liveness hint (blink across frames) was checked, and its outcome."""

    checked: bool = Field(False, title="Checked", description="A liveness check ran.")
    passed: bool | None = Field(
        None, title="Passed", description="Outcome when checked; null when not checked."
    )


class FaceMatch(WireModel):
    """The edge's local gallery decision for one face track."""

    decision: FaceDecision = Field(title="Decision", description="known / undecided / unknown.")
    resident_ref: str | None = Field(
        None,
        max_length=128,
        title="Resident reference",
        description="Gallery entry matched; present only when the decision is 'known'.",
    )
    distance: float | None = Field(
        None, ge=0, title="Distance", description="Euclidean distance to the nearest entry."
    )


class FaceObservation(WireModel):
    """One tracked face: encoded once per track (again only for a clearly better view)."""

    kind: Literal["face"] = "face"
    track_id: int = Field(ge=0, title="Track id", description="Per-device face track number.")
    encoding: FaceEncoding | None = Field(
        None,
        title="Encoding",
        description=(
            "dlib 128-d encoding. Absent where the site keeps face data on the device "
            "(faces.send_encodings off): then only local_match leaves the box. Left out of "
            "the payload when absent: events that carry one are unchanged on the wire."
        ),
        exclude_if=lambda v: v is None,
    )
    quality: float = Field(
        ge=0, le=1, title="Quality", description="Size, sharpness and frontal pose, 0..1."
    )
    seen_at: Timestamp
    liveness: Liveness = Field(default_factory=Liveness, title="Liveness hint")
    local_match: FaceMatch = Field(
        default_factory=lambda: FaceMatch(decision=FaceDecision.NOT_CHECKED),
        title="Local match",
        description="The edge gallery's decision, if a gallery is loaded.",
    )
    crop_jpeg_base64: str | None = Field(
        None,
        max_length=MAX_CROP_BASE64_CHARS,
        title="Face crop",
        description="JPEG crop, base64; sent only when the site enables it (off by default).",
    )


class HealthCodeObservation(WireModel):
    """One scanned health code and the verifier's result."""

    kind: Literal["health_code"] = "health_code"
    format: HealthCodeFormat = Field(title="Format")
    status: VerificationStatus = Field(title="Verification status")
    reason_codes: list[ReasonCode] = Field(
        default_factory=list, max_length=16, title="Reason codes", description="Why not valid."
    )
    colour: CodeColour | None = Field(None, title="Colour")
    holder_ref: str | None = Field(
        None,
        max_length=128,
        title="Holder reference",
        description="Keyed hash of the holder's ID number, never the number itself.",
    )
    issuer: str | None = Field(None, max_length=128, title="Issuer key id")
    expires_at: Timestamp | None = Field(None, title="Expiry")
    last_test_at: Timestamp | None = Field(None, title="Last test time")
    policy_passed: bool | None = Field(
        None, title="Policy passed", description="The site's three-code verdict, when evaluated."
    )
    seen_at: Timestamp


class DoorPlateObservation(WireModel):
    """A standard-address QR door plate read at the gate."""

    kind: Literal["door_plate"] = "door_plate"
    address_code: str = Field(
        pattern=r"^[0-9A-Za-z_-]{4,64}$",
        title="Address code",
        description="Standard-address code of the household the plate belongs to.",
    )
    seen_at: Timestamp


Observation = Annotated[
    FaceObservation | HealthCodeObservation | DoorPlateObservation,
    Field(discriminator="kind"),
]
