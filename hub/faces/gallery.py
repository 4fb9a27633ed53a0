"""Per-site gallery export: the enrolled residents of the site's grid, and its manifest.

A site's gates know the residents whose address lies in the site's grid. The document is
built from the sealed enrolments on demand (opened with the vault, rounded to 6 decimals),
and its digest is the version announced on the site's retained gallery topic.
"""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.faces.vault import FaceVault, VaultError
from hub.store.face_tables import FaceEnrollmentRow
from hub.store.ledger_tables import AddressRow, ResidentRow, SiteRow
from models.base import utc_now
from models.gallery import GalleryDocument, GalleryManifest

log = logging.getLogger(__name__)

GALLERY_PATH = "/api/gallery/{site_id}"


class UnknownSiteError(LookupError):
    """No such site in the ledger."""


def site_gallery(session: Session, vault: FaceVault, site_id: str) -> GalleryDocument:
    """The gallery of ``site_id``: enrolled residents of its grid, by resident id."""
    site = session.get(SiteRow, site_id)
    if site is None:
        raise UnknownSiteError(f"no site {site_id} in the ledger")
    rows = session.execute(
        select(FaceEnrollmentRow.resident_id, FaceEnrollmentRow.sealed)
        .join(ResidentRow, ResidentRow.resident_id == FaceEnrollmentRow.resident_id)
        .join(AddressRow, AddressRow.address_code == ResidentRow.address_code)
        .where(AddressRow.grid_id == site.grid_id)
        .order_by(FaceEnrollmentRow.resident_id)
    )
    refs: list[str] = []
    encodings: list[list[float]] = []
    for resident_id, sealed in rows:
        try:
            vector = vault.open(resident_id, sealed)
        except VaultError as exc:
            log.warning("%s", exc)
            continue
        refs.append(resident_id)
        encodings.append([float(v) for v in np.round(vector.astype(np.float64), 6)])
    return GalleryDocument(site_id=site_id, refs=refs, encodings=encodings)


def manifest_for(document: GalleryDocument) -> GalleryManifest:
    """The manifest announcing ``document``."""
    return GalleryManifest(
        site_id=document.site_id,
        version=document.digest(),
        entries=len(document.refs),
        path=GALLERY_PATH.format(site_id=document.site_id),
        issued_at=utc_now(),
    )
