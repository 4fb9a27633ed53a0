"""The device registry: add, revoke and list provisioned devices (one row each, never reused)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.devices.credentials import IssuedCredential
from hub.store.device_tables import RegisteredDeviceRow
from models.base import IDENTIFIER_RE


class DeviceKind(StrEnum):
    """What a device is; informational (the broker rights are the same)."""

    GATE = "gate"
    CHECKPOINT = "checkpoint"
    KIOSK = "kiosk"


class DeviceError(ValueError):
    """A registry change that cannot be made; the message says why."""


class UnknownDeviceError(DeviceError, LookupError):
    """No device with that id."""


class DuplicateDeviceError(DeviceError):
    """The id is taken, by an active or a revoked device."""


@dataclass(frozen=True)
class RegisteredDevice:
    """A registry entry as the broker files need it."""

    device_id: str
    site_id: str
    kind: str
    created_at: datetime
    revoked_at: datetime | None
    password_hash: str | None
    cert_serial: str | None
    cert_fingerprint: str | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    @property
    def method(self) -> str:
        """``certificate`` or ``password``."""
        return "certificate" if self.cert_serial else "password"


def check_id(value: str, what: str) -> str:
    """``value`` if it can be a device or site id (one MQTT topic level), else DeviceError."""
    if not IDENTIFIER_RE.match(value):
        raise DeviceError(
            f"{what} {value!r} is not valid: 1-64 letters, digits, '_', '.', '-', "
            "starting with a letter or digit"
        )
    return value


def add_device(
    session: Session,
    device_id: str,
    site_id: str,
    kind: DeviceKind,
    credential: IssuedCredential,
    now: datetime,
) -> RegisteredDevice:
    """Register a device with its credential; ids of revoked devices are not reused."""
    check_id(device_id, "device id")
    check_id(site_id, "site id")
    existing = session.get(RegisteredDeviceRow, device_id)
    if existing is not None:
        if existing.revoked_at is not None:
            raise DuplicateDeviceError(
                f"device {device_id} was revoked on {existing.revoked_at:%Y-%m-%d}; ids are "
                "not reused (its old credential must stay refused): choose a new id"
            )
        raise DuplicateDeviceError(f"device {device_id} exists (site {existing.site_id})")
    row = RegisteredDeviceRow(
        device_id=device_id,
        site_id=site_id,
        kind=str(kind),
        created_at=now,
        credential=credential.password_hash,
        cert_serial=credential.cert_serial,
        cert_fingerprint=credential.cert_fingerprint,
    )
    session.add(row)
    session.flush()
    return _entry(row)


def revoke_device(session: Session, device_id: str, now: datetime) -> RegisteredDevice:
    """Mark a device revoked; the broker files written next refuse it."""
    row = session.get(RegisteredDeviceRow, device_id)
    if row is None:
        raise UnknownDeviceError(f"no device {device_id!r} in the registry")
    if row.revoked_at is not None:
        raise DeviceError(f"device {device_id} is already revoked ({row.revoked_at:%Y-%m-%d})")
    row.revoked_at = now
    session.flush()
    return _entry(row)


def list_devices(session: Session) -> list[RegisteredDevice]:
    """Every device, active and revoked, by site and id."""
    rows = session.scalars(
        select(RegisteredDeviceRow).order_by(
            RegisteredDeviceRow.site_id, RegisteredDeviceRow.device_id
        )
    )
    return [_entry(row) for row in rows]


def _entry(row: RegisteredDeviceRow) -> RegisteredDevice:
    return RegisteredDevice(
        device_id=row.device_id,
        site_id=row.site_id,
        kind=row.kind,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        password_hash=row.credential,
        cert_serial=row.cert_serial,
        cert_fingerprint=row.cert_fingerprint,
    )
