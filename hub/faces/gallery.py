"""Per-site gallery export: the enrolled residents of the site's grid, and its manifest.

A site's gates know the residents whose address lies in the site's grid. The document is
built from the sealed enrolments on demand (opened with the vault, rounded to 6 decimals),
and its digest is the version announced on the site's retained gallery topic. Opening every
sealed enrolment costs seconds at district scale, so ``GalleryVersions`` rebuilds a site's
version only when a fingerprint of its sealed rows (ids and ciphertexts, nothing opened) changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

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


def _site_rows(session: Session, site_id: str) -> Iterator[tuple[str, bytes]]:
    """(resident id, sealed encoding) of the enrolled residents of ``site_id``'s grid, in order."""
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
    yield from rows


def site_gallery(session: Session, vault: FaceVault, site_id: str) -> GalleryDocument:
    """The gallery of ``site_id``: enrolled residents of its grid, by resident id."""
    refs: list[str] = []
    encodings: list[list[float]] = []
    for resident_id, sealed in _site_rows(session, site_id):
        try:
            vector = vault.open(resident_id, sealed)
        except VaultError as exc:
            log.warning("%s", exc)
            continue
        refs.append(resident_id)
        encodings.append([float(v) for v in np.round(vector.astype(np.float64), 6)])
    return GalleryDocument(site_id=site_id, refs=refs, encodings=encodings)


@dataclass(frozen=True)
class GalleryVersion:
    """A site gallery's version (the document's digest) and how many entries it has."""

    site_id: str
    version: str
    entries: int


class GalleryVersions:
    """Each site's gallery version, rebuilt only when the site's sealed enrolments changed."""

    def __init__(self, vault: FaceVault) -> None:
        self.vault = vault
        self._known: dict[str, tuple[str, GalleryVersion]] = {}
        self.rebuilds = 0
        """How many times a document was opened and digested (the expensive path)."""

    def of(self, session: Session, site_id: str) -> GalleryVersion:
        """The current version of ``site_id``'s gallery; UnknownSiteError for no such site."""
        fingerprint = hashlib.sha256()
        for resident_id, sealed in _site_rows(session, site_id):
            fingerprint.update(resident_id.encode())
            fingerprint.update(len(sealed).to_bytes(4, "big"))
            fingerprint.update(sealed)
        key = fingerprint.hexdigest()
        known = self._known.get(site_id)
        if known is not None and known[0] == key:
            return known[1]
        document = site_gallery(session, self.vault, site_id)
        version = GalleryVersion(site_id, document.digest(), len(document.refs))
        self._known[site_id] = (key, version)
        self.rebuilds += 1
        return version


def manifest_for(gallery: GalleryVersion) -> GalleryManifest:
    """The manifest announcing ``gallery``."""
    return GalleryManifest(
        site_id=gallery.site_id,
        version=gallery.version,
        entries=gallery.entries,
        path=GALLERY_PATH.format(site_id=gallery.site_id),
        issued_at=utc_now(),
    )
