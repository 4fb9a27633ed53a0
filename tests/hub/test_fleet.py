"""Fleet versions: devices behind on their site's gallery or the fleet's trust list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from hub.api.main import create_app
from hub.cli import app as hub_cli
from hub.config import HubSettings
from hub.devices.fleet import lagging
from hub.faces.enroll import enroll
from hub.faces.gallery import GalleryVersions, site_gallery
from hub.faces.vault import FaceVault
from hub.ledger import sample
from hub.ledger.idnumber import HolderHasher, resident_id_for
from hub.store import DeviceRow, Store
from hub.store.events import upsert_device_status
from models import ComponentVersions, DeviceStatus
from models.base import utc_now
from tests.hub.conftest import TEST_SECRET
from tests.support.logins import operator_headers

IDENTITY = b"identity-key-for-fleet-tests-0000000"


def _report(store: Store, device: str, site: str, gallery: str | None, trust: str | None) -> None:
    status = DeviceStatus(
        device_id=device,
        site_id=site,
        online=True,
        reported_at=utc_now(),
        versions=ComponentVersions(agent="1", gallery=gallery, trust_list=trust),
    )
    with store.transaction() as session:
        upsert_device_status(session, status)


@pytest.fixture
def fleet(store: Store, tmp_path: Path) -> tuple[HubSettings, str]:
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    generated = sample.generate(20, seed=3)
    sample.load(store, generated, IDENTITY)
    site = generated.sites[0]["site_id"]
    vault = FaceVault.for_hub(settings)
    with store.transaction() as session:
        resident = generated.residents[0]
        resident_id = resident_id_for(HolderHasher(IDENTITY)(resident["id_number"]))
        enroll(session, vault, resident_id, np.random.default_rng(1).normal(0, 0.1, 128), "t")
        expected = site_gallery(session, vault, site).digest()
    _report(store, "gate-01", site, expected, "7")
    _report(store, "gate-02", site, "0" * 64, "6")
    _report(store, "gate-03", site, None, None)
    return settings, expected


def test_lagging_names_each_component_behind(store: Store, fleet: tuple[HubSettings, str]) -> None:
    settings, expected = fleet
    with store.sessions() as session:
        lags = lagging(session, FaceVault.for_hub(settings))
    found = {(lag.device_id, lag.component): (lag.has, lag.expected) for lag in lags}
    assert found == {
        ("gate-02", "gallery"): ("0" * 64, expected),
        ("gate-02", "trust_list"): ("6", "7"),
        ("gate-03", "gallery"): (None, expected),
        ("gate-03", "trust_list"): (None, "7"),
    }


def test_lagging_over_the_api_and_the_cli(store: Store, fleet: tuple[HubSettings, str]) -> None:
    settings, _ = fleet
    with TestClient(create_app(settings, store)) as client:
        client.headers.update(operator_headers(store, client))
        body = client.get("/api/devices/lagging").json()
    assert sorted({row["device_id"] for row in body}) == ["gate-02", "gate-03"]
    result = CliRunner().invoke(
        hub_cli,
        ["devices", "lagging", "--database-url", str(store.engine.url)],
        env={"GRIDGATE_HUB_SECRET_KEY": TEST_SECRET},
    )
    assert result.exit_code == 0, result.output
    assert "gate-02" in result.output and "gate-01" not in result.output


def test_gallery_versions_rebuild_only_when_enrolments_change(
    store: Store, fleet: tuple[HubSettings, str]
) -> None:
    settings, expected = fleet
    vault = FaceVault.for_hub(settings)
    versions = GalleryVersions(vault)
    with store.sessions() as session:
        site = session.scalars(select(DeviceRow.site_id)).first()
        assert site is not None
        first = versions.of(session, site)
        again = versions.of(session, site)
    assert (first.version, first.entries) == (expected, 1)
    assert again == first and versions.rebuilds == 1
    generated = sample.generate(20, seed=3)
    resident_id = resident_id_for(HolderHasher(IDENTITY)(generated.residents[0]["id_number"]))
    with store.transaction() as session:  # the same resident re-enrolled with another face
        enroll(session, vault, resident_id, np.random.default_rng(2).normal(0, 0.1, 128), "t")
    with store.sessions() as session:
        changed = versions.of(session, site)
        assert changed.version == site_gallery(session, vault, site).digest() != expected
    assert versions.rebuilds == 2
