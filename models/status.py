"""Device status: retained on the status topic, with an offline last will."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from models.base import SCHEMA_VERSION, Identifier, SchemaVersion, Timestamp, WireModel


class CameraState(StrEnum):
    """State of the capture source."""

    OK = "ok"
    CONNECTING = "connecting"
    RECONNECTING = "reconnecting"
    LOST = "lost"
    DISABLED = "disabled"


class ComponentVersions(WireModel):
    """Versions the device runs and has applied (fleet operations list laggards)."""

    agent: str = Field(title="Agent version")
    config: str | None = Field(None, max_length=64, title="Config version")
    trust_list: str | None = Field(None, max_length=64, title="Trust-list version")
    gallery: str | None = Field(None, max_length=64, title="Gallery version")


class DeviceWarning(StrEnum):
    """Something an operator should look at on this device."""

    TRUST_LIST_MISSING = "trust_list_missing"
    TRUST_LIST_STALE = "trust_list_stale"
    CONFIG_REFUSED = "config_refused"


class DeviceStatus(WireModel):
    """Heartbeat of one edge device; ``online=False`` is also its last will."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    device_id: Identifier
    site_id: Identifier
    online: bool = Field(title="Online")
    reported_at: Timestamp
    fps: float = Field(0.0, ge=0, title="Frames per second processed")
    queue_depth: int = Field(0, ge=0, title="Outbox depth", description="Events not yet acked.")
    dropped_events: int = Field(0, ge=0, title="Events dropped by the bounded outbox")
    camera: CameraState = Field(CameraState.DISABLED, title="Camera state")
    versions: ComponentVersions
    trust_synced_at: Timestamp | None = Field(
        None, title="Trust list synced", description="When a hub-signed trust list last arrived."
    )
    config_error: str | None = Field(
        None,
        max_length=500,
        title="Config refused",
        description="Why the last config the hub pushed was not applied (the old one stays).",
    )
    warnings: list[DeviceWarning] = Field(
        default_factory=list, max_length=16, title="Warnings", description="Shown on the dashboard."
    )
