"""EventAcks for a committed batch: one per device, naming committed and rejected ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from hub.ingest.classify import AcceptedEvent, Refused
from models import EventAck, RejectedEvent
from models.ack import MAX_ACK_IDS
from models.topics import ack


def build_acks(
    events: Sequence[AcceptedEvent], refused: Sequence[Refused], now: datetime
) -> list[tuple[str, EventAck]]:
    """(topic, ack) pairs: every committed event id, and every refusal with a readable id."""
    committed: dict[tuple[str, str], dict[uuid.UUID, None]] = {}
    rejected: dict[tuple[str, str], dict[uuid.UUID, str]] = {}
    for accepted in events:
        key = (accepted.event.site_id, accepted.event.device_id)
        committed.setdefault(key, {})[accepted.event.event_id] = None
    for item in refused:
        if item.event_id is not None and item.site_id and item.device_id:
            reason = f"{item.kind}: {item.reason}"[:200]
            rejected.setdefault((item.site_id, item.device_id), {})[item.event_id] = reason
    acks: list[tuple[str, EventAck]] = []
    for site_id, device_id in dict.fromkeys([*committed, *rejected]):
        ids = list(committed.get((site_id, device_id), {}))
        refusals = [
            RejectedEvent(event_id=event_id, reason=reason)
            for event_id, reason in rejected.get((site_id, device_id), {}).items()
        ]
        for start in range(0, max(len(ids), len(refusals)), MAX_ACK_IDS):
            chunk = EventAck(
                device_id=device_id,
                event_ids=ids[start : start + MAX_ACK_IDS],
                rejected=refusals[start : start + MAX_ACK_IDS],
                acked_at=now,
            )
            acks.append((ack(site_id, device_id), chunk))
    return acks
