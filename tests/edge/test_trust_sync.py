"""The hub publishes a signed trust list, retained; edges apply only newer, hub-signed ones."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
from typer.testing import CliRunner

from edge.app import EdgeAgent
from edge.capture import CaptureConfig
from edge.config import CodesConfig, EdgeConfig
from edge.decoders.faces.config import FaceConfig
from edge.publish.config import MqttConfig
from edge.simulate.scenes import Scene, render
from hub.codes.cli import app as codes_cli
from hub.codes.publish import publish_trust_list
from models.base import utc_now
from models.status import DeviceWarning
from models.trust import IssuerKey, SignedTrustList, TrustListDocument, sign_trust_list
from tests.edge.helpers import wait_for
from tests.support.broker import MosquittoBroker
from tests.support.passes import Issuer

HUB, ROGUE, ISSUER = Issuer(kid="hub"), Issuer(kid="hub"), Issuer(kid="health-office")


def _signed(version: int, signer: Issuer = HUB) -> SignedTrustList:
    document = TrustListDocument(
        version=version,
        issued_at=utc_now(),
        issuers=[IssuerKey(kid=ISSUER.kid, public_key_pem=ISSUER.public_pem())],
    )
    return sign_trust_list(document, signer.key, signer.kid)


def _agent(tmp_path: Path, broker: MosquittoBroker) -> EdgeAgent:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "0.png"), render(Scene()))
    (tmp_path / "hub.pem").write_text(HUB.public_pem())
    return EdgeAgent(_agent_config(tmp_path, broker))


def _agent_config(tmp_path: Path, broker: MosquittoBroker) -> EdgeConfig:
    hub_pem = tmp_path / "hub.pem"
    return EdgeConfig(
        device_id="gate-01",
        site_id="site-a",
        data_dir=tmp_path / "data",
        capture=CaptureConfig(source=str(tmp_path / "frames"), loop=True, fps=5),
        faces=FaceConfig(enabled=False),
        codes=CodesConfig(hub_public_key=hub_pem),
        mqtt=MqttConfig(host=broker.host, port=broker.port),
    )


def test_retained_trust_list_reaches_a_connecting_edge_and_is_cached(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    publish_trust_list(_signed(2), broker.host, broker.port, "hub-test")
    agent = _agent(tmp_path, broker)
    agent.start()
    try:
        wait_for(lambda: agent.trust.version == 2, 15, "trust list v2 applied")
        assert agent.trust.key(ISSUER.kid) is not None
        cached = SignedTrustList.model_validate_json((tmp_path / "data" / "trust.json").read_text())
        assert cached.document.version == 2

        publish_trust_list(_signed(9, signer=ROGUE), broker.host, broker.port, "rogue")
        wait_for(lambda: agent.link.stats().bad_payloads >= 1, 15, "rogue list refused")
        assert agent.trust.version == 2  # a list the hub did not sign is refused

        path = tmp_path / "v3.json"
        path.write_text(_signed(3).model_dump_json())
        result = CliRunner().invoke(
            codes_cli,
            ["publish-trust-list", str(path), "--host", broker.host, "--port", str(broker.port)],
        )
        assert result.exit_code == 0, result.output
        wait_for(lambda: agent.trust.version == 3, 15, "trust list v3 applied")
    finally:
        agent.stop()


def test_publishing_to_an_unreachable_broker_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "v1.json"
    path.write_text(_signed(1).model_dump_json())
    result = CliRunner().invoke(codes_cli, ["publish-trust-list", str(path), "--port", "9"])
    assert result.exit_code == 2
    assert "cannot reach the broker" in result.output


def test_the_status_warns_when_the_trust_list_is_missing_or_stale(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    agent = _agent(tmp_path, broker)
    assert agent.status().warnings == [DeviceWarning.TRUST_LIST_MISSING]
    cache = tmp_path / "data" / "trust.json"
    assert agent.trust.apply_signed(_signed(4), HUB.key.public_key(), cache)
    fresh = agent.status()
    assert fresh.warnings == [] and fresh.trust_synced_at is not None
    day_old = time.time() - 25 * 3600
    os.utime(cache, (day_old, day_old))  # no list from the hub for a day
    restarted = EdgeAgent(_agent_config(tmp_path, broker))
    assert restarted.trust.version == 4
    assert restarted.status().warnings == [DeviceWarning.TRUST_LIST_STALE]
    assert not restarted.trust.apply_signed(_signed(4), HUB.key.public_key(), cache)
    assert restarted.status().warnings == []  # the same version, re-confirmed: synced again
