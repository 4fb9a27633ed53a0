"""Shared building blocks of every wire message: the base model, identifiers, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Final, Literal
from uuid import UUID

import uuid6
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION: Final = 1
"""The contract's major version. A message carrying any other version is refused."""

SchemaVersion = Annotated[
    Literal[1],
    Field(
        title="Schema version",
        description="Major version of the wire contract; receivers refuse other versions.",
    ),
]

IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

Identifier = Annotated[
    str,
    Field(
        pattern=IDENTIFIER_RE.pattern,
        min_length=1,
        max_length=64,
        description="Letters, digits, '_', '.', '-': safe as one MQTT topic level.",
    ),
]


def _require_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_require_utc),
    Field(description="An ISO 8601 time with a UTC offset; normalised to UTC."),
]


def _require_uuid7(value: UUID) -> UUID:
    if value.version != 7:
        raise ValueError(f"must be a UUIDv7 (time-ordered), got version {value.version}")
    return value


EventId = Annotated[
    UUID,
    AfterValidator(_require_uuid7),
    Field(description="UUIDv7: time-ordered and unique; the idempotency key of the message."),
]


def new_id() -> UUID:
    """A fresh UUIDv7: sortable by creation time, unique without coordination."""
    return UUID(str(uuid6.uuid7()))


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class WireModel(BaseModel):
    """Base of every message: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
