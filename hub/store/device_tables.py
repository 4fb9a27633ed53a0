"""The device registry (which edge devices may talk to the broker, with which credential, and
the config pushed to each) and the fleet-wide versions the hub published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import UTCDateTime


class RegisteredDeviceRow(Base):
    """One provisioned device; never deleted, only revoked (``revoked_at`` set)."""

    __tablename__ = "device_registry"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    credential: Mapped[str | None] = mapped_column(String(200), default=None)
    """Mosquitto ``$7$`` PBKDF2-SHA512 password hash; the plain password is never stored."""
    cert_serial: Mapped[str | None] = mapped_column(String(40), default=None)
    """Client certificate serial number (hex), when the device authenticates with a certificate."""
    cert_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 fingerprint (hex) of the client certificate."""
    config_digest: Mapped[str | None] = mapped_column(String(16), default=None)
    """Digest of the config last pushed to the device (``devices push-config``)."""
    config_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class PublishedVersionRow(Base):
    """The version of a fleet-wide component the hub last published (e.g. the trust list)."""

    __tablename__ = "published_versions"

    component: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
