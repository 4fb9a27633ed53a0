"""Kiosk self-registrations awaiting a grid worker's decision (see :mod:`hub.registrations`).

The face encoding is sealed at rest (:mod:`hub.faces.vault`) and deleted once the request
is decided: on approval it lives on as the resident's enrolment, on rejection nowhere.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import UTCDateTime


class RegistrationRow(Base):
    """One self-registration request; ``request_id`` is the idempotency key."""

    __tablename__ = "registrations"

    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64))
    address_code: Mapped[str] = mapped_column(String(64))
    address_known: Mapped[bool] = mapped_column(Boolean)
    grid_id: Mapped[str | None] = mapped_column(String(64), index=True)
    holder_ref: Mapped[str] = mapped_column(String(128), index=True)
    name_masked: Mapped[str] = mapped_column(String(32))
    code_colour: Mapped[str | None] = mapped_column(String(16))
    sealed_face: Mapped[bytes | None] = mapped_column(LargeBinary)
    face_quality: Mapped[float] = mapped_column(Float)
    consent_version: Mapped[str] = mapped_column(String(32))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))
    resident_id: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(1000), default="")

    __table_args__ = (
        Index(None, "state", "received_at"),
        CheckConstraint("state IN ('pending', 'approved', 'rejected')", "state"),
    )
