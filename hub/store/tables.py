"""The hub's tables (typed ORM): events, dead letters, devices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.store.types import JSONDocument, JSONText, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEAD_LETTER_PAYLOAD_CAP = 64 * 1024
"""Bytes of a refused payload kept in ``dead_letters.payload``."""


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventRow(Base):
    """One stored passage event; ``event_id`` is the idempotency key."""

    __tablename__ = "events"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64))
    gate_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONText)

    __table_args__ = (
        Index(None, "occurred_at"),
        Index(None, "device_id", "occurred_at"),
        Index(None, "site_id", "occurred_at"),
    )


class DeadLetterRow(Base):
    """A message the hub refused for good, with why, and its (capped) bytes."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    topic: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int]


class DeviceRow(Base):
    """The latest status of one edge device."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    online: Mapped[bool]
    last_status: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


# Importing the other table modules registers their tables on Base.metadata.
import hub.store.alert_tables  # noqa: E402
import hub.store.device_tables  # noqa: E402
import hub.store.face_tables  # noqa: E402
import hub.store.ledger_tables  # noqa: E402
import hub.store.registration_tables  # noqa: E402
import hub.store.report_tables  # noqa: E402
import hub.store.task_tables  # noqa: E402
import hub.store.user_tables  # noqa: E402
import hub.store.vehicle_tables  # noqa: E402, F401
