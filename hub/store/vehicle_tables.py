"""Checkpoint vehicles (see :mod:`hub.vehicles`): one row per vehicle event, one per occupant.

A vehicle shares its ``event_id`` with the stored passage event it came in; its occupants are
keyed by their order in that event (``position``), so a repeated seat number is still kept.
Like the ledger, no ID number is stored: only the keyed hashes and the masked form.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import JSONDocument, UTCDateTime


class VehicleRow(Base):
    """One vehicle checked at a checkpoint; ``passed`` only when every occupant passed."""

    __tablename__ = "vehicles"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(String(64))
    gate_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str | None] = mapped_column(String(64))
    plate: Mapped[str] = mapped_column(String(16))
    plate_kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSONDocument)
    occupant_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index(None, "plate", "occurred_at"),
        Index(None, "site_id", "occurred_at"),
    )


class OccupantRow(Base):
    """One person in a vehicle: code, destination as said and as resolved, ledger link."""

    __tablename__ = "vehicle_occupants"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vehicles.event_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seat: Mapped[int] = mapped_column(Integer)
    holder_ref: Mapped[str | None] = mapped_column(String(128))
    id_ref: Mapped[str | None] = mapped_column(String(128))
    id_masked: Mapped[str | None] = mapped_column(String(32))
    colour: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    reason_codes: Mapped[list[str]] = mapped_column(JSONDocument)
    destination: Mapped[str | None] = mapped_column(String(200))
    destination_code: Mapped[str | None] = mapped_column(String(64))
    """The address code as sent (a door plate picked at the checkpoint)."""
    address_code: Mapped[str | None] = mapped_column(String(64))
    """The ledger address the destination resolved to (None: not in the district)."""
    grid_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """Where they are bound: the destination's grid, else their home grid."""
    resident_id: Mapped[str | None] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSONDocument)
