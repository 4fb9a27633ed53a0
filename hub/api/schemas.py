"""Response bodies of the hub's HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from models import DeviceStatus, Direction, PassageEvent


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
