"""Enrolled face encodings, sealed (see :mod:`hub.faces.vault`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import UTCDateTime


class FaceEnrollmentRow(Base):
    """One resident's face encoding, encrypted at rest."""

    __tablename__ = "face_enrollments"

    resident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(200), default="")
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
