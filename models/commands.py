"""Commands from the hub to a device, and the device's correlated reply."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from models.base import SCHEMA_VERSION, EventId, Identifier, SchemaVersion, Timestamp, WireModel

Scalar = str | int | float | bool


class CommandName(StrEnum):
    """What the hub can ask a device to do."""

    SYNC_GALLERY = "sync_gallery"
    RELOAD_TRUST_LIST = "reload_trust_list"
    OPEN_GATE = "open_gate"
    RELOAD_CONFIG = "reload_config"


class DeviceCommand(WireModel):
    """A request on the device's ``cmd`` topic; ``command_id`` correlates the reply."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    command_id: EventId
    name: CommandName
    issued_at: Timestamp
    issued_by: str = Field(max_length=64, title="Issued by", description="User or service.")
    args: dict[str, Scalar] = Field(default_factory=dict, max_length=32, title="Arguments")


class CommandResult(WireModel):
    """A device's reply on ``cmd/reply``, carrying the command's correlation id."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    command_id: EventId
    device_id: Identifier
    ok: bool
    detail: str = Field("", max_length=500)
    completed_at: Timestamp
