"""Fleet versions: devices behind on the config pushed to them, their site's gallery, or the
trust list the hub published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from hub.api.main import create_app
from hub.cli import app as hub_cli
from hub.codes.cli import app as codes_cli
from hub.codes.publish import PublishError, publish_trust_list
from hub.config import HubSettings
from hub.devices.fleet import TRUST_LIST, lagging, published_version, record_published
from hub.faces.enroll import enroll
from hub.faces.gallery import GalleryVersions, site_gallery
from hub.faces.vault import FaceVault
from hub.ledger import sample
from hub.ledger.idnumber import HolderHasher, resident_id_for
from hub.store import DeviceRow, Store
from hub.store.device_tables import PublishedVersionRow, RegisteredDeviceRow
from hub.store.events import upsert_device_status
from models import ComponentVersions, DeviceStatus
from models.base import utc_now
from models.trust import SignedTrustList, TrustListDocument, sign_trust_list
from tests.hub.conftest import TEST_SECRET
from tests.support.broker import MosquittoBroker
from tests.support.logins import operator_headers
from tests.support.passes import Issuer

IDENTITY = b"identity-key-for-fleet-tests-0000000"


def _report(
    store: Store,
    device: str,
    site: str,
    gallery: str | None,
    trust: str | None,
    config: str | None = None,
) -> None:
    status = DeviceStatus(
        device_id=device,
        site_id=site,
        online=True,
        reported_at=utc_now(),
        versions=ComponentVersions(agent="1", gallery=gallery, trust_list=trust, config=config),
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
    _report(store, "gate-01", site, expected, "7", config="c" * 16)
    _report(store, "gate-02", site, "0" * 64, "6", config="a" * 16)
    _report(store, "gate-03", site, None, None)
    _report(store, "gate-04", site, expected, "8")  # newer than the hub published: not the rule
    with store.transaction() as session:
        record_published(session, TRUST_LIST, "7", utc_now())
        for device, pushed in (("gate-01", "c" * 16), ("gate-02", "b" * 16), ("gate-03", None)):
            session.add(
                RegisteredDeviceRow(
                    device_id=device,
                    site_id=site,
                    kind="gate",
                    created_at=utc_now(),
                    config_digest=pushed,  # gate-03: never pushed, so not compared
                )
            )
    return settings, expected


def test_lagging_names_each_component_behind(store: Store, fleet: tuple[HubSettings, str]) -> None:
    settings, expected = fleet
    with store.sessions() as session:
        lags = lagging(session, FaceVault.for_hub(settings))
    found = {(lag.device_id, lag.component): (lag.has, lag.expected) for lag in lags}
    assert found == {
        ("gate-02", "config"): ("a" * 16, "b" * 16),
        ("gate-02", "gallery"): ("0" * 64, expected),
        ("gate-02", "trust_list"): ("6", "7"),
        ("gate-03", "gallery"): (None, expected),
        ("gate-03", "trust_list"): (None, "7"),
        ("gate-04", "trust_list"): ("8", "7"),  # the published version, not the newest reported
    }


def test_no_trust_list_expected_until_the_hub_published_one(
    store: Store, fleet: tuple[HubSettings, str]
) -> None:
    settings, _ = fleet
    with store.transaction() as session:
        row = session.get(PublishedVersionRow, TRUST_LIST)
        assert row is not None
        session.delete(row)
    with store.sessions() as session:
        lags = lagging(session, FaceVault.for_hub(settings))
        assert published_version(session, TRUST_LIST) is None
    assert {lag.component for lag in lags} == {"config", "gallery"}


def _trust_list(version: int) -> SignedTrustList:
    hub = Issuer(kid="hub")
    document = TrustListDocument(version=version, issued_at=utc_now(), issuers=[])
    return sign_trust_list(document, hub.key, hub.kid)


def test_publishing_a_trust_list_records_its_version(
    store: Store, broker: MosquittoBroker, tmp_path: Path
) -> None:
    url = str(store.engine.url.render_as_string(hide_password=False))
    publish_trust_list(_trust_list(11), broker.host, broker.port, "hub-test", database_url=url)
    with store.sessions() as session:
        assert published_version(session, TRUST_LIST) == "11"
    signed = tmp_path / "trust.json"
    signed.write_text(_trust_list(12).model_dump_json())
    result = CliRunner().invoke(  # the CLI finds the hub's database through GRIDGATE_HUB_*
        codes_cli,
        ["publish-trust-list", str(signed), "--host", broker.host, "--port", str(broker.port)],
        env={"GRIDGATE_HUB_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    with store.sessions() as session:
        assert published_version(session, TRUST_LIST) == "12"


def test_a_trust_list_the_broker_refused_is_not_recorded(store: Store) -> None:
    url = str(store.engine.url.render_as_string(hide_password=False))
    with pytest.raises(PublishError):
        publish_trust_list(_trust_list(13), "127.0.0.1", 9, "hub-test", 1.0, database_url=url)
    with store.sessions() as session:
        assert published_version(session, TRUST_LIST) is None


def test_lagging_over_the_api_and_the_cli(store: Store, fleet: tuple[HubSettings, str]) -> None:
    settings, _ = fleet
    with TestClient(create_app(settings, store)) as client:
        client.headers.update(operator_headers(store, client))
        body = client.get("/api/devices/lagging").json()
    assert sorted({row["device_id"] for row in body}) == ["gate-02", "gate-03", "gate-04"]
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
