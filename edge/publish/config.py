"""Settings of the edge's publishing side: the MQTT link and the SQLite outbox."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class MqttConfig(BaseModel):
    """How the edge reaches the broker, and how hard it tries to deliver."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("localhost", title="Broker host", description="Name or address.")
    port: int = Field(1883, ge=1, le=65535, title="Broker port", description="TCP port.")
    client_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        title="Client id",
        description="MQTT client id; defaults to 'gridgate-edge-<device id>'. Must be stable "
        "across restarts, since it names the persistent session.",
    )
    username: str | None = Field(None, title="Username", description="Broker user, if any.")
    password: SecretStr | None = Field(
        None, title="Password", description="Broker password, if any."
    )
    keepalive_s: int = Field(
        30, ge=5, le=3600, title="Keepalive (s)", description="MQTT keepalive interval."
    )
    session_expiry_s: int = Field(
        7 * 24 * 3600,
        ge=0,
        le=0xFFFFFFFF,
        title="Session expiry (s)",
        description="MQTT v5 session expiry: how long the broker keeps the session (and "
        "queued acks and commands) while the edge is away. 0 ends it on disconnect.",
    )
    ack_timeout_s: float = Field(
        10.0,
        gt=0,
        title="Ack timeout (s)",
        description="Re-send an event the hub has not acknowledged (EventAck) after this.",
    )
    resend_batch: int = Field(
        100, ge=1, le=10_000, title="Send batch", description="Events taken per sender pass."
    )
    heartbeat_s: float = Field(
        30.0, gt=0, title="Heartbeat (s)", description="Interval of retained status updates."
    )
    max_inflight: int = Field(
        20,
        ge=1,
        le=1000,
        title="Max in flight",
        description="QoS 1 publishes awaiting PUBACK at once (keep below the broker's "
        "receive maximum).",
    )
    max_queued: int = Field(
        1000,
        ge=2,
        title="Max queued",
        description="Cap of paho's in-memory message queue; the outbox holds the rest.",
    )
    reconnect_min_s: int = Field(
        1, ge=1, title="Reconnect delay min (s)", description="First reconnect backoff."
    )
    reconnect_max_s: int = Field(
        30, ge=1, title="Reconnect delay max (s)", description="Backoff doubles up to this."
    )
    max_packet_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        title="Max packet size",
        description="MQTT v5 Maximum Packet Size announced to the broker: larger messages "
        "are dropped by the broker instead of reaching the device.",
    )
    tls_ca_file: Path | None = Field(
        None, title="TLS CA file", description="Enables TLS, verifying the broker with this CA."
    )
    tls_cert_file: Path | None = Field(
        None,
        title="TLS client certificate",
        description="PEM client certificate for brokers that authenticate devices by "
        "certificate (with tls_key_file and tls_ca_file).",
    )
    tls_key_file: Path | None = Field(
        None, title="TLS client key", description="PEM private key of tls_cert_file."
    )

    @model_validator(mode="after")
    def _coherent(self) -> MqttConfig:
        if self.max_queued <= self.max_inflight:
            raise ValueError("max_queued must exceed max_inflight (status and replies need room)")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together")
        if self.tls_cert_file is not None and self.tls_ca_file is None:
            raise ValueError("a client certificate needs TLS: set tls_ca_file too")
        return self

    def effective_client_id(self, device_id: str) -> str:
        """The configured client id, or one derived from the device id."""
        return self.client_id or f"gridgate-edge-{device_id}"


class OutboxConfig(BaseModel):
    """Where unacknowledged events are kept, and how many at most."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(..., title="Outbox file", description="SQLite database file.")
    max_events: int = Field(
        100_000,
        ge=1,
        title="Max events",
        description="Bound of the outbox; when full, the oldest events are dropped (counted).",
    )
    fsync: bool = Field(
        True,
        title="Sync every write",
        description="synchronous=FULL: survive power loss, not only a process kill "
        "(which WAL with synchronous=NORMAL already survives).",
    )
