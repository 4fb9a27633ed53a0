"""Self-reports through a report code (see :mod:`hub.reports`) and the region risk list.

Like the ledger, a report keeps no ID number: only its keyed hash and the masked form. One
report per person and arrival date; a repeated submission updates it. Reports are purged
after the retention (``report_purges`` audits each purge).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import JSONDocument, UTCDateTime

RISK_LEVELS = "level IN ('high', 'medium', 'low')"
MESSAGE_STATUSES = "message_status IN ('pending', 'sent', 'failed')"
_ID = BigInteger().with_variant(Integer(), "sqlite")


class RiskRegionRow(Base):
    """One region of the risk list, in force from ``valid_from`` to ``valid_to`` (inclusive)."""

    __tablename__ = "risk_regions"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)

    __table_args__ = (CheckConstraint(RISK_LEVELS, "level"),)


class ReportRow(Base):
    """A person's self-report of their arrival, matched against the ledger."""

    __tablename__ = "reports"

    report_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    holder_ref: Mapped[str] = mapped_column(String(128))
    id_masked: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    arrived: Mapped[bool] = mapped_column(Boolean)
    arrival_date: Mapped[date] = mapped_column(Date)
    address_text: Mapped[str] = mapped_column(String(200))
    address_code: Mapped[str | None] = mapped_column(String(64))
    grid_id: Mapped[str] = mapped_column(String(64), index=True)
    resident_id: Mapped[str | None] = mapped_column(String(64))
    regions: Mapped[list[str]] = mapped_column(JSONDocument)
    risk_level: Mapped[str] = mapped_column(String(8))
    health_code: Mapped[str | None] = mapped_column(String(24))
    consent_version: Mapped[str] = mapped_column(String(32))
    submissions: Mapped[int] = mapped_column(Integer, default=1)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    message_status: Mapped[str | None] = mapped_column(String(8))
    """The reporter's text message: pending, sent or failed (None: before it was tracked)."""
    message_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    message_error: Mapped[str] = mapped_column(String(500), default="", server_default="")

    __table_args__ = (
        UniqueConstraint("holder_ref", "arrival_date"),
        CheckConstraint("risk_level IN ('high', 'medium', 'low', 'none')", "risk_level"),
        CheckConstraint(MESSAGE_STATUSES, "message_status"),
    )


class ReportPurgeRow(Base):
    """One purge of reports past the retention: who, when, the cut-off and what went."""

    __tablename__ = "report_purges"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    older_than: Mapped[datetime] = mapped_column(UTCDateTime)
    reports: Mapped[int] = mapped_column(Integer)
    tasks: Mapped[int] = mapped_column(Integer)
    alerts: Mapped[int] = mapped_column(Integer)
