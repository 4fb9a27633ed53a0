"""Configuration of the face stage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.face_match import FaceThresholds


class FaceConfig(BaseModel):
    """Face detection, tracking, encoding and local matching at one gate."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True,
        title="Faces enabled",
        description="Face use is switchable per site; gates also work from QR codes alone.",
    )
    backend: str = Field("dlib", title="Backend", description="Face backend: dlib or fake.")
    detect_scale: float = Field(
        0.6,
        gt=0,
        le=1,
        title="Detection scale",
        description=(
            "Frames are shrunk by this factor for detection; tune to the gate distance. The "
            "detector needs faces of about 70 px after shrinking: 0.6 finds faces of about "
            "120 px and larger (a 640x480 gate camera at 1-1.5 m); 0.5 misses some of those."
        ),
    )
    upsample: int = Field(
        0, ge=0, le=2, title="Upsample", description="HOG upsampling passes (each ~4x slower)."
    )
    detect_every: int = Field(
        2, ge=1, title="Detect every k-th frame", description="Detection runs at most this often."
    )
    min_face_area: int = Field(
        60 * 60,
        ge=16,
        title="Minimum face area",
        description="Faces smaller than this many pixels (full frame) are not encoded.",
    )
    better_view_margin: float = Field(
        0.25,
        ge=0,
        title="Better-view margin",
        description="A track is re-encoded only when quality beats its best by this fraction.",
    )
    max_encodings_per_track: int = Field(
        3, ge=1, title="Encodings per track", description="Upper bound of encodings of one track."
    )
    motion_threshold: float = Field(
        0.01,
        ge=0,
        le=1,
        title="Motion threshold",
        description="Share of thumbnail pixels that must change before detection runs.",
    )
    track_ttl_s: float = Field(
        2.0, gt=0, title="Track time-to-live", description="A track unseen this long ends."
    )
    thresholds: FaceThresholds = Field(
        default_factory=FaceThresholds,
        title="Match thresholds",
        description="known below t1, unknown above t2, undecided between.",
    )
    liveness: bool = Field(
        False, title="Blink liveness hint", description="Look for a blink across frames."
    )
    send_encodings: bool = Field(
        True,
        title="Send face encodings",
        description=(
            "Attach each face's 128-d encoding to the events sent to the hub, so the hub "
            "matches it against the whole ledger and tells strangers apart by face. Off: face "
            "data stays on the device and only the local gallery decision (known resident, "
            "unknown, undecided) leaves the box; the hub then trusts that decision and counts "
            "an unknown face once per face track. A kiosk's registrations, made with the "
            "person's separate consent, still carry their encoding."
        ),
    )
    send_crops: bool = Field(
        False,
        title="Send face crops",
        description="Attach a JPEG crop to events (needs send_encodings). Off: no photo "
        "leaves the device.",
    )

    @model_validator(mode="after")
    def _crops_need_encodings(self) -> FaceConfig:
        if self.send_crops and not self.send_encodings:
            raise ValueError("send_crops sends face photos: it needs send_encodings on")
        return self
