"""Fleet versions: which devices have not applied the config, gallery and trust list they
should have.

What a device should have: the config digest last pushed to it (``devices push-config``),
the digest of its site's current gallery document (what the hub announces), and the trust
list version the hub last published (``codes publish-trust-list`` records it; one signed list
for the whole fleet). What it has comes from its last retained status. A component the hub
never pushed or published is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.faces.gallery import UnknownSiteError, site_gallery
from hub.faces.vault import FaceVault
from hub.store.device_tables import PublishedVersionRow, RegisteredDeviceRow
from hub.store.tables import DeviceRow
from models import DeviceStatus

TRUST_LIST = "trust_list"
"""The ``published_versions`` component of the signed trust list."""


@dataclass(frozen=True)
class Lag:
    """One device behind on one component."""

    device_id: str
    site_id: str
    component: str
    has: str | None
    expected: str
    online: bool


def record_published(session: Session, component: str, version: str, now: datetime) -> None:
    """Remember that the hub published ``version`` of a fleet-wide ``component``."""
    row = session.get(PublishedVersionRow, component)
    if row is None:
        session.add(PublishedVersionRow(component=component, version=version, published_at=now))
    else:
        row.version, row.published_at = version, now
    session.flush()


def published_version(session: Session, component: str) -> str | None:
    """The version of ``component`` the hub last published, if it ever did."""
    row = session.get(PublishedVersionRow, component)
    return row.version if row is not None else None


def lagging(session: Session, vault: FaceVault) -> list[Lag]:
    """Devices whose config, gallery or trust list is not the expected one, by device id."""
    pushed = {
        device_id: digest
        for device_id, digest in session.execute(
            select(RegisteredDeviceRow.device_id, RegisteredDeviceRow.config_digest).where(
                RegisteredDeviceRow.config_digest.is_not(None)
            )
        )
    }
    trust = published_version(session, TRUST_LIST)
    galleries: dict[str, str | None] = {}
    lags: list[Lag] = []
    for row in session.scalars(select(DeviceRow).order_by(DeviceRow.device_id)):
        try:
            versions = DeviceStatus.model_validate(row.last_status).versions
        except ValidationError:
            continue
        expected_config = pushed.get(row.device_id)
        if expected_config is not None and versions.config != expected_config:
            lags.append(_lag(row, "config", versions.config, expected_config))
        if row.site_id not in galleries:
            try:
                galleries[row.site_id] = site_gallery(session, vault, row.site_id).digest()
            except UnknownSiteError:
                galleries[row.site_id] = None
        expected_gallery = galleries[row.site_id]
        if expected_gallery is not None and versions.gallery != expected_gallery:
            lags.append(_lag(row, "gallery", versions.gallery, expected_gallery))
        if trust is not None and versions.trust_list != trust:
            lags.append(_lag(row, TRUST_LIST, versions.trust_list, trust))
    return lags


def _lag(row: DeviceRow, component: str, has: str | None, expected: str) -> Lag:
    return Lag(row.device_id, row.site_id, component, has, expected, row.online)
