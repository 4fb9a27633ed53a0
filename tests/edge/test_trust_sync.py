"""The hub publishes a signed trust list, retained; edges apply only newer, hub-signed ones."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from edge.app import EdgeAgent
from edge.capture import CaptureConfig
from edge.config import CodesConfig, EdgeConfig
from edge.decoders.faces.config import FaceConfig
from edge.publish.config import MqttConfig
from edge.simulate.scenes import Scene, render
from edge.verify.gridgate import GridgateVerifier
from edge.verify.trust import TrustStore
from hub.codes.cli import app as codes_cli
from hub.codes.publish import publish_trust_list
from models.base import utc_now
from models.events import ReasonCode, VerificationStatus
from models.status import DeviceWarning
from models.trust import (
    IssuerKey,
    SignedTrustList,
    TrustListDocument,
    TrustListSignatureError,
    sign_trust_list,
)
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


# --- key rotation -----------------------------------------------------------------------------


def _issuers_list(version: int, *issuers: Issuer, signer: Issuer = HUB) -> SignedTrustList:
    keys = [IssuerKey(kid=i.kid, public_key_pem=i.public_pem()) for i in issuers]
    document = TrustListDocument(version=version, issued_at=utc_now(), issuers=keys)
    return sign_trust_list(document, signer.key, signer.kid)


def test_an_issuer_key_rotates_through_a_list_with_both_keys(tmp_path: Path) -> None:
    old, new = Issuer(kid="office-2026-05"), Issuer(kid="office-2026-11")
    old_pass, new_pass = old.issue(pass_id="p-old"), new.issue(pass_id="p-new")
    store, cache = TrustStore(), tmp_path / "trust.json"

    assert store.apply_signed(_issuers_list(5, old, new), HUB.key.public_key(), cache)
    verifier = GridgateVerifier(store)
    assert verifier.verify(old_pass, utc_now()).status is VerificationStatus.VALID
    assert verifier.verify(new_pass, utc_now()).status is VerificationStatus.VALID

    assert store.apply_signed(_issuers_list(6, new), HUB.key.public_key(), cache)
    assert verifier.verify(old_pass, utc_now()).reason_codes == [ReasonCode.UNKNOWN_ISSUER]
    assert verifier.verify(new_pass, utc_now()).status is VerificationStatus.VALID


def _pinned_config(tmp_path: Path, broker: MosquittoBroker, *hubs: Issuer) -> EdgeConfig:
    files = []
    for hub in hubs:
        files.append(tmp_path / f"{hub.kid}.pub.pem")
        files[-1].write_text(hub.public_pem())
    config = _agent_config(tmp_path, broker)
    codes = CodesConfig(hub_public_key=files[0], hub_public_keys=files[1:])
    return config.model_copy(update={"codes": codes})


def _refused_beyond(agent: EdgeAgent, count: int) -> Callable[[], bool]:
    return lambda: agent.link.stats().bad_payloads > count


def test_the_hub_key_rotates_while_edges_pin_old_and_new(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    old_hub, new_hub = Issuer(kid="hub-2026-05"), Issuer(kid="hub-2026-11")
    unpinned, impostor = Issuer(kid="hub-2027-01"), Issuer(kid=new_hub.kid)
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "0.png"), render(Scene()))
    config = _pinned_config(tmp_path, broker, old_hub, new_hub)
    assert [p.name for p in config.codes.hub_key_files()] == [
        "hub-2026-05.pub.pem",
        "hub-2026-11.pub.pem",
    ]
    publish_trust_list(_signed(2, signer=old_hub), broker.host, broker.port, "hub-old")
    agent = EdgeAgent(config)
    agent.start()
    try:
        wait_for(lambda: agent.trust.version == 2, 15, "list v2 by the old hub key applied")
        publish_trust_list(_signed(3, signer=new_hub), broker.host, broker.port, "hub-new")
        wait_for(lambda: agent.trust.version == 3, 15, "list v3 by the new hub key applied")
        for rogue in (unpinned, impostor):  # an unpinned kid; a pinned kid, another key
            refused = _refused_beyond(agent, agent.link.stats().bad_payloads)
            publish_trust_list(_signed(9, signer=rogue), broker.host, broker.port, "rogue")
            wait_for(refused, 15, f"list by {rogue.kid} (another key) refused")
            assert agent.trust.version == 3
    finally:
        agent.stop()
    restarted = EdgeAgent(config)  # the cached list, signed by the new key, still loads
    assert restarted.trust.version == 3
    only_old = _pinned_config(tmp_path, broker, old_hub, unpinned)
    with pytest.raises(TrustListSignatureError):
        EdgeAgent(only_old)  # a cache signed by a key no longer pinned is not trusted
