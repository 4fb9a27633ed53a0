"""Response bodies of the hub's HTTP API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models import DeviceStatus, Direction, PassageEvent
from models.alerts import Alert, Resolution, SweepStep
from models.events import (
    CodeColour,
    FaceDecision,
    GateAction,
    HealthCodeFormat,
    ReasonCode,
    VerificationStatus,
)


class DatabaseHealth(BaseModel):
    """Whether the database answers."""

    ok: bool
    dialect: str
    detail: str | None = None


class MqttHealth(BaseModel):
    """The ingest consumer's link to the broker (absent when this process runs no ingest)."""

    enabled: bool
    connected: bool = False
    subscribed: bool = False
    queue_depth: int = 0


class Health(BaseModel):
    """``ok`` when the database answers and ingest (if enabled) is subscribed."""

    status: Literal["ok", "degraded"]
    database: DatabaseHealth
    mqtt: MqttHealth


class EventSummary(BaseModel):
    """A stored passage event; ``event`` (observations included) only on request."""

    event_id: uuid.UUID
    device_id: str
    site_id: str
    gate_id: str
    direction: Direction
    occurred_at: datetime
    received_at: datetime
    event: PassageEvent | None = Field(None, description="The full event, if asked for.")


class DeviceSummary(BaseModel):
    """A device's latest status."""

    device_id: str
    site_id: str
    online: bool
    last_seen: datetime
    status: DeviceStatus | None = Field(None, description="The last status message.")


class AuditEntry(BaseModel):
    """One change to an alert: who, when, what."""

    at: datetime
    actor: str
    action: str
    detail: str


class SeenFace(BaseModel):
    """A face at the gate, without its encoding (biometrics stay in the store)."""

    track_id: int
    quality: float
    edge_decision: FaceDecision
    liveness_checked: bool
    liveness_passed: bool | None


class SeenCode(BaseModel):
    """A health code at the gate, as the edge verified it."""

    format: HealthCodeFormat
    status: VerificationStatus
    colour: CodeColour | None
    reasons: list[ReasonCode]
    policy_passed: bool | None


class Seen(BaseModel):
    """What the gate saw in the passage that last raised or repeated the alert."""

    event_id: uuid.UUID
    device_id: str
    gate_id: str
    direction: Direction
    occurred_at: datetime
    gate_action: GateAction
    faces: list[SeenFace]
    codes: list[SeenCode]
    door_plates: list[str]


class ResidentSummary(BaseModel):
    """The matched resident, as a grid worker needs them (ID number masked)."""

    resident_id: str
    name: str
    id_masked: str
    phone: str
    address_code: str | None
    role: str
    code_colour: str | None
    quarantine_until: date | None
    face_enrolled: bool


class AlertDetail(BaseModel):
    """An alert with its history, what was seen and whom it matched."""

    alert: Alert
    acknowledged_by: str | None
    resolved_by: str | None
    audit: list[AuditEntry]
    seen: Seen | None
    resident: ResidentSummary | None
    suggestions: list[str] = Field(
        default_factory=list, description="Ledger addresses the person may have meant."
    )


class AlertNote(BaseModel):
    """An optional note with a lifecycle step."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=1000, title="Note")


class SweepRequest(AlertNote):
    """One step of the four-step sweep."""

    step: SweepStep = Field(title="Step", description="door_visit, phone, joint_visit, cross_check")


class ResolveRequest(AlertNote):
    """How the alert ended."""

    resolution: Resolution = Field(title="Resolution")
