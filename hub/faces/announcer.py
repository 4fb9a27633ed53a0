"""Announces each site's gallery version to its edges: at start, on demand, and periodically."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from hub.faces.gallery import GalleryVersions, manifest_for
from hub.faces.vault import FaceVault
from hub.mqtt import Publisher, PublishError
from hub.store.db import Store
from hub.store.ledger_tables import SiteRow
from models import encode, topics

log = logging.getLogger(__name__)


class GalleryAnnouncer:
    """Publishes a site's retained manifest whenever its gallery's digest changed."""

    def __init__(
        self, store: Store, vault: FaceVault, publisher: Publisher, interval_s: float = 300.0
    ) -> None:
        self.store, self.vault, self.publisher, self.interval_s = (
            store,
            vault,
            publisher,
            interval_s,
        )
        self.announced: dict[str, str] = {}
        self.versions = GalleryVersions(vault)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect and announce in a background thread (first round at once)."""
        self.publisher.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hub-gallery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop announcing and disconnect."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.publisher.close()

    def announce_soon(self) -> None:
        """Check every site now (after enrolments or approvals)."""
        self._wake.set()

    def announce_changed(self) -> int:
        """Publish the manifest of every site whose gallery changed; how many were published."""
        with self.store.sessions() as session:
            sites = list(session.scalars(select(SiteRow.site_id).order_by(SiteRow.site_id)))
            published = 0
            for site_id in sites:
                manifest = manifest_for(self.versions.of(session, site_id))
                if self.announced.get(site_id) == manifest.version:
                    continue
                self.publisher.publish(topics.gallery(site_id), encode(manifest), retain=True)
                self.announced[site_id] = manifest.version
                published += 1
        return published

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                count = self.announce_changed()
                if count:
                    log.info("announced %d site galleries", count)
            except PublishError as exc:
                log.warning("gallery announcement deferred: %s", exc)
            except Exception:  # the next round retries; a database hiccup must not end it
                log.exception("gallery announcement failed")
            self._wake.wait(self.interval_s)
            self._wake.clear()
