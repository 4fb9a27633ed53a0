"""The per-site face gallery the hub exports to the edges, and its retained manifest.

The hub publishes a small :class:`GalleryManifest` retained on ``topics.gallery(site)``;
an edge whose gallery version differs downloads the :class:`GalleryDocument` over HTTPS
with its device login and checks it against the manifest's digest before using it. Only
encodings travel, never photos; the refs are resident ids, meaningless outside the hub.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import Field

from models.base import SCHEMA_VERSION, Identifier, SchemaVersion, Timestamp, WireModel
from models.events import FaceEncoding

MAX_GALLERY_ENTRIES = 200_000


class GalleryDocument(WireModel):
    """Every enrolled resident a site's gates should know, one encoding each."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    site_id: Identifier
    refs: list[str] = Field(max_length=MAX_GALLERY_ENTRIES, title="Resident ids, row order")
    encodings: list[FaceEncoding] = Field(max_length=MAX_GALLERY_ENTRIES, title="Encodings")

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical content: the gallery's version."""
        body = {"site_id": self.site_id, "refs": self.refs, "encodings": self.encodings}
        canonical = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()


class GalleryManifest(WireModel):
    """Which gallery version a site should have, and where to fetch it."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    site_id: Identifier
    version: str = Field(
        pattern=r"^[0-9a-f]{64}$", title="Version", description="The document's digest."
    )
    entries: int = Field(ge=0, le=MAX_GALLERY_ENTRIES, title="Entries")
    path: str = Field(
        max_length=200, title="Download path", description="Relative to the hub's API URL."
    )
    issued_at: Timestamp
