"""Turning raw MQTT messages into events, statuses, or refusals with a reason."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from models import ContractError, DeviceStatus, PassageEvent, decode
from models.codec import MAX_PAYLOAD_BYTES
from models.topics import DeviceChannel, TopicError, parse_device_topic

SALVAGE_LIMIT = 4 * MAX_PAYLOAD_BYTES
"""Largest refused payload searched for an event id (so its edge can drop it)."""


@dataclass(frozen=True)
class Inbound:
    """One MQTT message as received."""

    topic: str
    payload: bytes
    received_at: datetime
    retained: bool = False


@dataclass(frozen=True)
class AcceptedEvent:
    """A valid passage event on its own device's topic."""

    event: PassageEvent
    inbound: Inbound


@dataclass(frozen=True)
class AcceptedStatus:
    """A valid status on its own device's topic."""

    status: DeviceStatus
    inbound: Inbound


@dataclass(frozen=True)
class Refused:
    """A message refused for good: dead-lettered, and rejected to its edge when possible."""

    inbound: Inbound
    kind: str
    reason: str
    site_id: str | None = None
    device_id: str | None = None
    event_id: uuid.UUID | None = None


Classified = AcceptedEvent | AcceptedStatus | Refused


def salvage_event_id(payload: bytes) -> uuid.UUID | None:
    """The UUIDv7 ``event_id`` of a payload that is at least a JSON object, else None."""
    if len(payload) > SALVAGE_LIMIT:
        return None
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    raw = data.get("event_id") if isinstance(data, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        value = uuid.UUID(raw)
    except ValueError:
        return None
    return value if value.version == 7 else None


def classify(msg: Inbound) -> Classified:
    """Decode ``msg`` according to its topic; never raises."""
    try:
        topic = parse_device_topic(msg.topic)
    except TopicError as exc:
        return Refused(msg, "topic", str(exc))
    site, device = topic.site_id, topic.device_id
    if topic.channel is DeviceChannel.EVENTS:
        try:
            event = decode(PassageEvent, msg.payload)
        except ContractError as exc:
            return Refused(msg, exc.kind, str(exc), site, device, salvage_event_id(msg.payload))
        if (event.site_id, event.device_id) != (site, device):
            reason = (
                f"event of {event.site_id}/{event.device_id} published on the topic of "
                f"{site}/{device}"
            )
            return Refused(msg, "mismatch", reason, site, device, event.event_id)
        return AcceptedEvent(event, msg)
    if topic.channel is DeviceChannel.STATUS:
        try:
            status = decode(DeviceStatus, msg.payload)
        except ContractError as exc:
            return Refused(msg, exc.kind, str(exc), site, device)
        if (status.site_id, status.device_id) != (site, device):
            reason = (
                f"status of {status.site_id}/{status.device_id} published on the topic of "
                f"{site}/{device}"
            )
            return Refused(msg, "mismatch", reason, site, device)
        return AcceptedStatus(status, msg)
    return Refused(msg, "channel", f"ingest does not take {topic.channel} messages", site, device)
