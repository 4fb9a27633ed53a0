"""The kiosk's settings (``kiosk:`` in the edge config; absent: not a kiosk)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KioskConfig(BaseModel):
    """The local self-registration screen of a kiosk."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        "127.0.0.1",
        title="Listen address",
        description="The kiosk's own screen only: keep it on loopback.",
    )
    port: int = Field(8090, ge=0, le=65535, title="Port", description="0 picks a free port.")
    session_timeout_s: float = Field(
        90.0,
        gt=0,
        title="Session timeout (s)",
        description="After this long without anything new, the session forgets everything.",
    )
    min_face_quality: float = Field(
        0.3,
        ge=0,
        le=1,
        title="Minimum face quality",
        description="A face below this quality is not taken for registration.",
    )
    outbox_max_requests: int = Field(
        1000, ge=1, title="Outbox bound", description="Requests kept until the hub's ack."
    )
