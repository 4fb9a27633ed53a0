"""The hub's application-level acknowledgement: only this lets an edge forget an event.

A broker's PUBACK is not durability (a SIGKILLed Mosquitto lost acknowledged QoS 1
messages), so the edge keeps every event in its outbox until an ``EventAck`` names it.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from models.base import SCHEMA_VERSION, EventId, Identifier, SchemaVersion, Timestamp, WireModel

MAX_ACK_IDS = 1000


class RejectedEvent(WireModel):
    """An event the hub refused for good (stored as a dead letter): the edge drops it too."""

    event_id: EventId
    reason: str = Field(max_length=200, title="Reason")


class EventAck(WireModel):
    """Event ids the hub has committed (or rejected for good) for one device."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    device_id: Identifier
    event_ids: list[EventId] = Field(
        default_factory=list, max_length=MAX_ACK_IDS, title="Committed event ids"
    )
    rejected: list[RejectedEvent] = Field(
        default_factory=list, max_length=MAX_ACK_IDS, title="Rejected events"
    )
    acked_at: Timestamp

    @model_validator(mode="after")
    def _not_empty(self) -> EventAck:
        if not self.event_ids and not self.rejected:
            raise ValueError("an ack must name at least one event")
        return self
