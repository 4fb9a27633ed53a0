"""Passage events: what an edge agent saw at one gate in one passage, and what it decided."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from models.base import (
    SCHEMA_VERSION,
    EventId,
    Identifier,
    SchemaVersion,
    Timestamp,
    WireModel,
)
from models.observations import (
    FACE_ENCODING_DIMENSIONS,
    MAX_CROP_BASE64_CHARS,
    MAX_OBSERVATIONS,
    CodeColour,
    DoorPlateObservation,
    FaceDecision,
    FaceEncoding,
    FaceMatch,
    FaceObservation,
    HealthCodeFormat,
    HealthCodeObservation,
    Liveness,
    Observation,
    ReasonCode,
    VerificationStatus,
)
from models.vehicles import VehicleCheck

__all__ = [
    "FACE_ENCODING_DIMENSIONS",
    "MAX_CROP_BASE64_CHARS",
    "MAX_OBSERVATIONS",
    "CodeColour",
    "Direction",
    "DoorPlateObservation",
    "FaceDecision",
    "FaceEncoding",
    "FaceMatch",
    "FaceObservation",
    "GateAction",
    "GateDecision",
    "HealthCodeFormat",
    "HealthCodeObservation",
    "Liveness",
    "Observation",
    "PassageEvent",
    "ReasonCode",
    "VehicleCheck",
    "VerificationStatus",
]


class Direction(StrEnum):
    """Which way the passage goes, from the gate's configuration."""

    ENTRY = "entry"
    EXIT = "exit"


class GateAction(StrEnum):
    """What the gate did locally."""

    OPEN = "open"
    DENY = "deny"
    HOLD = "hold"
    OBSERVE = "observe"


class GateDecision(WireModel):
    """What the gate decided locally, and why."""

    action: GateAction = Field(title="Action")
    reasons: list[str] = Field(
        default_factory=list, max_length=16, title="Reasons", description="Short reason keys."
    )
    operator_id: str | None = Field(
        None, max_length=64, title="Operator", description="Set for a manual override."
    )


class PassageEvent(WireModel):
    """Everything seen at one gate within one passage window, as one entry or exit event."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    event_id: EventId
    device_id: Identifier
    site_id: Identifier
    gate_id: Identifier
    direction: Direction
    occurred_at: Timestamp
    observations: list[Observation] = Field(
        default_factory=list, max_length=MAX_OBSERVATIONS, title="Observations"
    )
    decision: GateDecision = Field(title="Local gate decision")
    vehicle: VehicleCheck | None = Field(
        None,
        title="Vehicle",
        description=(
            "Set by checkpoint vehicle mode: the vehicle's plate and every occupant, one event"
            " per vehicle. Left out of the payload when absent, so older hubs read other events."
        ),
        exclude_if=lambda v: v is None,
    )

    def faces(self) -> list[FaceObservation]:
        """The face observations of this passage."""
        return [o for o in self.observations if isinstance(o, FaceObservation)]

    def health_codes(self) -> list[HealthCodeObservation]:
        """The health-code observations of this passage."""
        return [o for o in self.observations if isinstance(o, HealthCodeObservation)]

    def door_plates(self) -> list[DoorPlateObservation]:
        """The door-plate observations of this passage."""
        return [o for o in self.observations if isinstance(o, DoorPlateObservation)]
