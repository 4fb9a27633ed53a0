"""Commands from the hub to a device, the device's correlated reply, and a pushed config."""

from __future__ import annotations

import hashlib
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


CONFIG_DIGEST_CHARS = 16
MAX_CONFIG_BYTES = 256 * 1024
RESTART_PENDING = "-restart"
"""Appended to ``versions.config`` while sections of the config file wait for a restart."""


def config_digest(document: bytes) -> str:
    """The version of an edge config file: a short SHA-256 of its bytes, as pushed and as the
    edge reports it in ``versions.config``."""
    return hashlib.sha256(document).hexdigest()[:CONFIG_DIGEST_CHARS]


class ConfigPush(WireModel):
    """An edge config file pushed by the hub, retained on the device's ``config`` topic."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    push_id: EventId
    device_id: Identifier
    digest: str = Field(
        min_length=CONFIG_DIGEST_CHARS,
        max_length=CONFIG_DIGEST_CHARS,
        pattern="^[0-9a-f]+$",
        title="Digest",
        description="config_digest() of the document: what versions.config says once applied.",
    )
    document: str = Field(
        max_length=MAX_CONFIG_BYTES, title="Document", description="The edge.yaml text."
    )
    issued_at: Timestamp
    issued_by: str = Field(max_length=64, title="Issued by", description="User or service.")
