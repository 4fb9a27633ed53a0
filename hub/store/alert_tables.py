"""Alert tables: alerts (one active per subject and rule), their audit trail, deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import JSONDocument, UTCDateTime

_ID = BigInteger().with_variant(Integer(), "sqlite")

BUILDING_CHARS = 160
"""Street, number and building of an address (:func:`hub.alerts.repository.building_key`)."""


class AlertRow(Base):
    """An alert; ``active_key`` is set while unresolved, so the unique index allows one.

    Its scope propagates gate → building → grid → community (``building``: the building of
    the address it concerns; ``community``: its grid's), so each level can filter and count.
    """

    __tablename__ = "alerts"

    alert_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    grid_id: Mapped[str] = mapped_column(String(64), index=True)
    site_id: Mapped[str] = mapped_column(String(64))
    gate_id: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(BUILDING_CHARS), index=True)
    community: Mapped[str | None] = mapped_column(String(100), index=True)
    subject_ref: Mapped[str] = mapped_column(String(128))
    resident_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(500))
    repeat_count: Mapped[int] = mapped_column(Integer, default=1)
    first_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(String(32))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertAuditRow(Base):
    """Who did what to an alert, when (raised, repeated, acknowledged, resolved …)."""

    __tablename__ = "alert_audit"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.alert_id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(1000), default="")


class DeliveryRow(Base):
    """One alert pushed through one channel to one target, with its outcome."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.alert_id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubscriptionRow(Base):
    """A grid worker's choice of which alerts reach them on one channel (default: all)."""

    __tablename__ = "alert_subscriptions"

    worker_id: Mapped[str] = mapped_column(
        ForeignKey("grid_workers.worker_id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    min_severity: Mapped[str] = mapped_column(String(16))
    rules: Mapped[list[str] | None] = mapped_column(JSONDocument, default=None)
    """Only these rules; null: every rule."""
