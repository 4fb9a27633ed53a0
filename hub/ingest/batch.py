"""One batch of classified messages, written in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from hub.ingest.classify import AcceptedEvent, AcceptedStatus, Classified, Refused
from hub.ingest.effects import BatchEffects, EventEffects
from hub.store.events import dead_letter, store_events, upsert_device_status


@dataclass
class Batch:
    """Classified messages, in arrival order within each kind."""

    events: list[AcceptedEvent] = field(default_factory=list)
    statuses: list[AcceptedStatus] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @classmethod
    def of(cls, items: Iterable[Classified]) -> Batch:
        """Sort classified messages into a batch."""
        batch = cls()
        for item in items:
            if isinstance(item, AcceptedEvent):
                batch.events.append(item)
            elif isinstance(item, AcceptedStatus):
                batch.statuses.append(item)
            else:
                batch.refused.append(item)
        return batch

    def singles(self) -> list[Batch]:
        """One batch per message (to isolate a message that makes the whole batch fail)."""
        return (
            [Batch(events=[e]) for e in self.events]
            + [Batch(statuses=[s]) for s in self.statuses]
            + [Batch(refused=[r]) for r in self.refused]
        )

    def __len__(self) -> int:
        return len(self.events) + len(self.statuses) + len(self.refused)


def write_batch(session: Session, batch: Batch, effects: EventEffects) -> list[uuid.UUID]:
    """Store the batch's events, apply effects to the new ones, record refusals and statuses.

    Returns the ids of the events stored for the first time. The caller owns the transaction.
    """
    new_ids: list[uuid.UUID] = []
    if batch.events:
        received_at = min(e.inbound.received_at for e in batch.events)
        payloads = {e.event.event_id: e.inbound.payload for e in batch.events}
        new_ids = store_events(session, (e.event for e in batch.events), received_at, payloads)
        by_id = {e.event.event_id: e.event for e in batch.events}
        new_events = [by_id[event_id] for event_id in new_ids]
        if isinstance(effects, BatchEffects):
            effects.apply_many(session, new_events)
        else:
            for event in new_events:
                effects.apply(session, event)
    for refused in batch.refused:
        dead_letter(
            session,
            topic=refused.inbound.topic,
            kind=refused.kind,
            reason=refused.reason,
            payload=refused.inbound.payload,
            received_at=refused.inbound.received_at,
        )
    for status in batch.statuses:
        upsert_device_status(session, status.status, status.inbound.received_at)
    return new_ids
