"""Keeps the local gallery at the version the hub announces for this site.

The hub publishes a retained :class:`models.gallery.GalleryManifest` per site. When its
version differs from the gallery on disk, a background thread logs in to the hub's API with
the device's broker credentials, downloads the document, checks its site and digest against
the manifest, and only then swaps it in and caches it. Failures are retried with backoff;
the gate keeps deciding with the gallery it has.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from edge.gallery import Gallery
from edge.publish.config import MqttConfig
from models import decode
from models.gallery import GalleryDocument, GalleryManifest

log = logging.getLogger(__name__)


class GallerySyncConfig(BaseModel):
    """Where the edge fetches its site's gallery."""

    model_config = ConfigDict(extra="forbid")

    hub_url: HttpUrl = Field(
        title="Hub API URL", description="e.g. https://hub.example.cn:8443 (HTTPS in production)."
    )
    ca_file: Path | None = Field(
        None, title="CA certificate", description="PEM to trust for the hub's HTTPS certificate."
    )
    timeout_s: float = Field(15.0, gt=0, le=300, title="Timeout (s)", description="Per request.")
    retry_initial_s: float = Field(
        5.0, gt=0, title="First retry (s)", description="Wait after a failed download."
    )
    retry_max_s: float = Field(300.0, gt=0, title="Longest retry (s)", description="Backoff cap.")


class GallerySyncError(RuntimeError):
    """A download that failed or did not match its manifest."""


class GallerySync:
    """Follows the site's gallery manifest; one download at a time, in its own thread."""

    def __init__(
        self,
        config: GallerySyncConfig,
        mqtt: MqttConfig,
        *,
        device_id: str,
        site_id: str,
        gallery: Gallery,
        cache: Path,
    ) -> None:
        self.config, self.site_id, self.gallery, self.cache = config, site_id, gallery, cache
        self.username = mqtt.username or device_id
        self.password = mqtt.password.get_secret_value() if mqtt.password else ""
        self.last_error: str | None = None
        self._wanted: GalleryManifest | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self._force = False
        self._thread: threading.Thread | None = None

    def on_manifest(self, payload: bytes) -> None:
        """MQTT callback: remember the announced version and wake the downloader."""
        manifest = decode(GalleryManifest, payload)
        if manifest.site_id != self.site_id:
            raise ValueError(f"gallery manifest for site {manifest.site_id}, not {self.site_id}")
        with self._wake:
            self._wanted = manifest
            self._wake.notify_all()

    def resync(self) -> None:
        """Fetch the announced gallery again, even at the same version (a hub command)."""
        with self._wake:
            self._force = True
            self._wake.notify_all()

    def start(self) -> None:
        """Start the downloader thread."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="gallery-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the downloader (an ongoing request ends at its timeout)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        delay = self.config.retry_initial_s
        while True:
            with self._wake:
                while not self._stopping and not self._pending():
                    self._wake.wait()
                if self._stopping:
                    return
                manifest = self._wanted
                self._force = False
            assert manifest is not None
            try:
                self.fetch(manifest)
            except GallerySyncError as exc:
                self.last_error = str(exc)
                log.warning("gallery %s… not applied: %s", manifest.version[:12], exc)
                with self._wake:  # back off, unless a newer manifest or stop arrives
                    self._wake.wait_for(partial(self._superseded, manifest), delay)
                delay = min(delay * 2, self.config.retry_max_s)
                continue
            delay = self.config.retry_initial_s

    def _superseded(self, manifest: GalleryManifest) -> bool:
        return self._stopping or self._wanted is not manifest

    def _pending(self) -> bool:
        wanted = self._wanted
        return wanted is not None and (self._force or wanted.version != self.gallery.version)

    def fetch(self, manifest: GalleryManifest) -> None:
        """Download, check and apply the gallery ``manifest`` announces."""
        verify: str | bool = str(self.config.ca_file) if self.config.ca_file else True
        base = str(self.config.hub_url).rstrip("/")
        try:
            with httpx.Client(base_url=base, timeout=self.config.timeout_s, verify=verify) as http:
                login = http.post(
                    "/api/auth/token", data={"username": self.username, "password": self.password}
                )
                if login.status_code != 200:
                    raise GallerySyncError(f"hub login refused ({login.status_code})")
                token = login.json()["access_token"]
                response = http.get(manifest.path, headers={"Authorization": f"Bearer {token}"})
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise GallerySyncError(f"hub unreachable or unreadable: {exc}") from None
        if response.status_code != 200:
            raise GallerySyncError(f"download refused ({response.status_code})")
        try:
            document = GalleryDocument.model_validate_json(response.content)
        except ValidationError as exc:
            raise GallerySyncError(f"not a gallery document: {exc.error_count()} errors") from None
        if document.site_id != self.site_id or document.digest() != manifest.version:
            raise GallerySyncError("the document does not match the manifest's site and digest")
        self.gallery.replace(document.refs, document.encodings, manifest.version)
        self.gallery.save(self.cache)
        self.last_error = None
        log.info("gallery %s… applied: %d entries", manifest.version[:12], len(document.refs))
