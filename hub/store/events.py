"""Event, dead-letter and device-status writes: idempotent and portable (SQLite, PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.store.many import insert_new_rows
from hub.store.tables import DEAD_LETTER_PAYLOAD_CAP, DeadLetterRow, DeviceRow, EventRow
from hub.store.types import RawJSON
from models import DeviceStatus, PassageEvent
from models.base import utc_now


def _insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


def event_row(
    event: PassageEvent, received_at: datetime, payload: bytes | None = None
) -> dict[str, Any]:
    """The ``events`` row of one passage event; ``payload`` is its validated wire form, if any
    (stored as received, which saves serialising the event again)."""
    return {
        "event_id": event.event_id,
        "device_id": event.device_id,
        "site_id": event.site_id,
        "gate_id": event.gate_id,
        "direction": event.direction.value,
        "occurred_at": event.occurred_at,
        "received_at": received_at,
        "payload": RawJSON(payload.decode() if payload else event.model_dump_json()),
    }


def store_events(
    session: Session,
    events: Iterable[PassageEvent],
    received_at: datetime | None = None,
    payloads: Mapping[uuid.UUID, bytes] | None = None,
) -> list[uuid.UUID]:
    """Insert ``events``, skipping event ids already stored; return the ids that were new.

    ``payloads`` maps event ids to the validated bytes they arrived as, stored as they are.

    Safe against concurrent writers (``ON CONFLICT DO NOTHING``): an id is reported new by
    exactly one transaction. Runs in the caller's transaction; the caller commits.
    """
    when = received_at or utc_now()
    unique: dict[uuid.UUID, PassageEvent] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    raw = payloads or {}
    rows = [event_row(event, when, raw.get(event.event_id)) for event in unique.values()]
    if not rows:
        return []
    new = insert_new_rows(session.connection(), EventRow, rows, "event_id")
    return [event_id for event_id in unique if event_id in new]


def dead_letter(
    session: Session,
    *,
    topic: str,
    kind: str,
    reason: str,
    payload: bytes,
    received_at: datetime | None = None,
) -> DeadLetterRow:
    """Record a refused message with its reason and its first bytes."""
    row = DeadLetterRow(
        received_at=received_at or utc_now(),
        topic=topic[:512],
        kind=kind[:32],
        reason=reason[:1000],
        payload=bytes(payload[:DEAD_LETTER_PAYLOAD_CAP]),
        payload_size=len(payload),
    )
    session.add(row)
    return row


def upsert_device_status(
    session: Session, status: DeviceStatus, received_at: datetime | None = None
) -> None:
    """Make ``status`` the device's latest; ``last_seen`` only ever moves forward.

    The latest message wins for ``online`` and ``last_status`` even when its ``reported_at``
    is older: a last will carries the time its session connected.
    """
    seen = min(status.reported_at, received_at or utc_now())
    row = {
        "device_id": status.device_id,
        "site_id": status.site_id,
        "online": status.online,
        "last_status": RawJSON(status.model_dump_json()),
        "last_seen": seen,
    }
    stmt = _insert(session, DeviceRow).values(row)
    latest = func.greatest if session.get_bind().dialect.name == "postgresql" else func.max
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["device_id"],
            set_={
                "site_id": stmt.excluded.site_id,
                "online": stmt.excluded.online,
                "last_status": stmt.excluded.last_status,
                "last_seen": latest(DeviceRow.last_seen, stmt.excluded.last_seen),
            },
        )
    )


def upsert_device_statuses(
    session: Session, statuses: Sequence[tuple[DeviceStatus, datetime]]
) -> None:
    """Apply several statuses in arrival order."""
    for status, received_at in statuses:
        upsert_device_status(session, status, received_at)
