"""Fleet versions: which devices have not applied the gallery and trust list they should have.

The gallery a site should have is the digest of its current gallery document (what the hub
announces); the trust list is the newest version any device reports (the hub signs one list
for the whole fleet). Versions come from each device's last retained status.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.faces.gallery import UnknownSiteError, site_gallery
from hub.faces.vault import FaceVault
from hub.store.tables import DeviceRow
from models import DeviceStatus


@dataclass(frozen=True)
class Lag:
    """One device behind on one component."""

    device_id: str
    site_id: str
    component: str
    has: str | None
    expected: str
    online: bool


def lagging(session: Session, vault: FaceVault) -> list[Lag]:
    """Devices whose gallery or trust list is not the expected one, by device id."""
    statuses: list[tuple[DeviceRow, DeviceStatus]] = []
    for row in session.scalars(select(DeviceRow).order_by(DeviceRow.device_id)):
        try:
            statuses.append((row, DeviceStatus.model_validate(row.last_status)))
        except ValidationError:
            continue
    known = [v for v in (_number(s.versions.trust_list) for _, s in statuses) if v is not None]
    newest_trust = str(max(known)) if known else None
    galleries: dict[str, str | None] = {}
    lags: list[Lag] = []
    for row, status in statuses:
        if row.site_id not in galleries:
            try:
                galleries[row.site_id] = site_gallery(session, vault, row.site_id).digest()
            except UnknownSiteError:
                galleries[row.site_id] = None
        expected_gallery = galleries[row.site_id]
        if expected_gallery is not None and status.versions.gallery != expected_gallery:
            lags.append(_lag(row, "gallery", status.versions.gallery, expected_gallery))
        if newest_trust is not None and status.versions.trust_list != newest_trust:
            lags.append(_lag(row, "trust_list", status.versions.trust_list, newest_trust))
    return lags


def _lag(row: DeviceRow, component: str, has: str | None, expected: str) -> Lag:
    return Lag(row.device_id, row.site_id, component, has, expected, row.online)


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
