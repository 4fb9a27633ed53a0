"""Hub → edge gallery sync: the retained manifest, the device-authenticated download, and
the checks that keep a wrong or forged gallery out of the gate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np
import paho.mqtt.publish as mqtt_publish
import pytest

from edge.app import EdgeAgent
from edge.capture import CaptureConfig
from edge.config import EdgeConfig
from edge.gallery_sync import GallerySyncConfig
from edge.passage.config import PassageConfig
from edge.publish.config import MqttConfig
from hub.app import Hub
from hub.devices.credentials.base import IssuedCredential
from hub.devices.passwords import hash_password
from hub.devices.registry import DeviceKind, add_device, revoke_device
from hub.faces.enroll import enroll
from hub.ledger import sample
from hub.store.ledger_tables import AddressRow, ResidentRow
from models import encode, topics
from models.base import utc_now
from models.gallery import GalleryManifest
from tests.edge.helpers import wait_for
from tests.hub.conftest import make_settings
from tests.support.broker import MosquittoBroker
from tests.support.hub_server import serving

IDENTITY = b"identity-key-for-gallery-tests-00000"
PASSWORD = "device-password-0123456789"


@dataclass
class Site:
    hub: Hub
    port: int
    site_id: str
    residents: list[str]

    def enroll(self, resident_id: str, seed: int) -> None:
        vector = np.random.default_rng(seed).normal(0, 0.1, 128)
        with self.hub.store.transaction() as session:
            enroll(session, self.hub.vault, resident_id, vector, "test")


@pytest.fixture
def site(broker: MosquittoBroker, tmp_path: Path) -> Iterator[Site]:
    settings = make_settings(
        broker, f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub", gallery_announce_s=0.2
    )
    hub = Hub(settings)
    generated = sample.generate(20, seed=3)
    sample.load(hub.store, generated, IDENTITY)
    site_id = generated.sites[0]["site_id"]
    with hub.store.transaction() as session:
        residents = sorted(
            session.scalars(
                ResidentRow.__table__.select()
                .with_only_columns(ResidentRow.resident_id)
                .join(AddressRow.__table__)
            )
        )
        for device_id, device_site in (("gate-01", site_id), ("gate-x", "S9999")):
            add_device(
                session,
                device_id,
                device_site,
                DeviceKind.GATE,
                IssuedCredential(password_hash=hash_password(PASSWORD)),
                utc_now(),
            )
    made = Site(hub, 0, site_id, residents)
    made.enroll(residents[0], 1)
    made.enroll(residents[1], 2)
    with serving(hub) as port:
        made.port = port
        yield made


def _agent(site: Site, broker: MosquittoBroker, tmp_path: Path) -> EdgeAgent:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "blank.png"), np.zeros((120, 160, 3), np.uint8))
    return EdgeAgent(
        EdgeConfig(
            device_id="gate-01",
            site_id=site.site_id,
            data_dir=tmp_path / "edge",
            capture=CaptureConfig(source=str(frames), fps=2),
            passage=PassageConfig(gate_id="east"),
            mqtt=MqttConfig(
                host=broker.host, port=broker.port, username="gate-01", password=PASSWORD
            ),
            gallery=GallerySyncConfig(
                hub_url=f"http://127.0.0.1:{site.port}", retry_initial_s=0.2, retry_max_s=1
            ),
        )
    )


def test_the_edge_follows_the_hubs_gallery_and_refuses_a_forged_one(
    site: Site, broker: MosquittoBroker, tmp_path: Path
) -> None:
    agent = _agent(site, broker, tmp_path)
    agent.start()
    try:
        cache = tmp_path / "edge" / "gallery.json"
        # applied in memory, then written to the cache: wait for both
        wait_for(lambda: len(agent.gallery) == 2 and cache.exists(), 20, "the first gallery")
        assert agent.gallery.refs() == site.residents[:2]
        first = agent.gallery.version
        assert first == site.hub.galleries.announced[site.site_id]
        assert cache.stat().st_mode & 0o777 == 0o600

        site.enroll(site.residents[2], 3)  # a new enrolment: a new version reaches the gate
        site.hub.galleries.announce_soon()
        wait_for(lambda: len(agent.gallery) == 3, 20, "the updated gallery")
        assert agent.gallery.version != first
        assert agent.status().versions.gallery == agent.gallery.version

        forged = GalleryManifest(
            site_id=site.site_id,
            version="0" * 64,
            entries=1,
            path=f"/api/gallery/{site.site_id}",
            issued_at=utc_now(),
        )
        mqtt_publish.single(
            topics.gallery(site.site_id),
            encode(forged),
            qos=1,
            retain=True,
            hostname=broker.host,
            port=broker.port,
        )
        assert agent.gallery_sync is not None
        wait_for(lambda: agent.gallery_sync.last_error is not None, 20, "the refusal")  # type: ignore[union-attr]
        assert "does not match the manifest" in (agent.gallery_sync.last_error or "")
        assert len(agent.gallery) == 3  # kept what it had
    finally:
        agent.stop()


def test_gallery_downloads_need_the_right_device(site: Site) -> None:
    base = f"http://127.0.0.1:{site.port}"

    def token(username: str, password: str = PASSWORD) -> httpx.Response:
        return httpx.post(
            f"{base}/api/auth/token", data={"username": username, "password": password}
        )

    assert token("gate-01", "wrong-password").status_code == 401
    url = f"{base}/api/gallery/{site.site_id}"
    assert httpx.get(url).status_code == 401
    other = token("gate-x").json()["access_token"]
    forbidden = httpx.get(url, headers={"Authorization": f"Bearer {other}"})
    assert forbidden.status_code == 403
    own = token("gate-01").json()["access_token"]
    ok = httpx.get(url, headers={"Authorization": f"Bearer {own}"})
    assert ok.status_code == 200 and ok.json()["refs"] == site.residents[:2]
    with site.hub.store.transaction() as session:
        revoke_device(session, "gate-01", utc_now())
    assert token("gate-01").status_code == 401
    gone = httpx.get(url, headers={"Authorization": f"Bearer {own}"})
    assert gone.status_code == 401  # a revoked device's token stops working at once
