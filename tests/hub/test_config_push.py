"""The hub pushes an edge config: `gridgate-hub devices push-config` checks it as the edge would,
records its digest and sends it retained on the device's own config topic; the edge agent
writes it over its config file (the old one kept as .prev), reloads and reports the digest.

Everything runs on the real Mosquitto with the generated broker files (``secured``) and a real
edge agent built from the device's bundle.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import cv2
import pytest
import yaml
from typer.testing import CliRunner

from edge.app import EdgeAgent
from edge.config import load_config
from edge.simulate.scenes import Scene, render
from hub.cli import app as hub_app
from hub.config import HubSettings
from hub.devices.acl import render_acl
from hub.devices.fleet import lagging
from hub.faces.vault import FaceVault
from hub.mqtt import Publisher
from hub.store.db import Store
from hub.store.device_tables import RegisteredDeviceRow
from hub.store.events import upsert_device_status
from models import encode, topics
from models.base import new_id, utc_now
from models.commands import ConfigPush, config_digest
from models.status import DeviceWarning
from tests.edge.helpers import wait_for
from tests.hub.conftest import TEST_SECRET
from tests.hub.test_broker_security import SITE_A, SITE_B, Secured, secured
from tests.hub.test_devices import _device

__all__ = ["secured"]  # the real broker with the generated configuration

DEVICE = "gate-a1"
runner = CliRunner()


def _config(secured: Secured, **changes: Any) -> bytes:
    """The device's bundle config, runnable here (frames from a folder, no face models)."""
    data = yaml.safe_load((secured.tmp / f"{DEVICE}-bundle" / "edge.yaml").read_text())
    data["capture"] = {"source": str(secured.tmp / "frames"), "loop": True, "fps": 5}
    data["data_dir"] = str(secured.tmp / "edge-data")
    data["faces"] = {"enabled": False}
    data["mqtt"]["heartbeat_s"] = 0.5  # statuses come often: --wait sees the new version
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        data.setdefault(section, {})[key] = value
    return yaml.safe_dump(data, sort_keys=True).encode()


@pytest.fixture
def agent(secured: Secured) -> Iterator[EdgeAgent]:
    frames = secured.tmp / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "0.png"), render(Scene()))
    config_file = secured.tmp / "etc" / "edge.yaml"
    config_file.parent.mkdir()
    config_file.write_bytes(_config(secured))
    config_file.chmod(0o640)
    edge = EdgeAgent(load_config(config_file), config_path=config_file)
    edge.start()
    assert edge.link.wait_ready(10)
    yield edge
    edge.stop()


def _push(secured: Secured, document: bytes, *extra: str) -> tuple[int, str]:
    pushed = secured.tmp / f"push-{uuid.uuid4().hex[:6]}.yaml"
    pushed.write_bytes(document)
    env = {
        "GRIDGATE_HUB_SECRET_KEY": TEST_SECRET,
        "GRIDGATE_HUB_MQTT_PORT": str(secured.hub_port),
        "GRIDGATE_HUB_MQTT_USERNAME": "gridgate-hub",
        "GRIDGATE_HUB_MQTT_PASSWORD": secured.hub_password(),
    }
    result = runner.invoke(
        hub_app,
        ["devices", "push-config", DEVICE, "--file", str(pushed), *extra,
         "--data-dir", str(secured.data_dir), "--database-url", secured.db_url],
        env=env,
    )  # fmt: skip
    return result.exit_code, " ".join(result.output.split())  # unwrapped: paths vary in length


def _expected_digest(secured: Secured) -> str | None:
    store = Store.open(secured.db_url)
    try:
        with store.sessions() as session:
            row = session.get(RegisteredDeviceRow, DEVICE)
            return row.config_digest if row else None
    finally:
        store.close()


def test_a_pushed_config_is_applied_and_reported(secured: Secured, agent: EdgeAgent) -> None:
    config_file = agent.config_path
    assert config_file is not None
    before = config_file.read_bytes()
    assert agent.status().versions.config == config_digest(before)
    document = _config(secured, qr__deadline_s=0.25)
    digest = config_digest(document)

    code, output = _push(secured, document, "--wait", "20")

    assert code == 0, output
    assert f"pushed config {digest}" in output and "applied" in output
    assert config_file.read_bytes() == document
    assert config_file.with_name("edge.yaml.prev").read_bytes() == before
    assert config_file.stat().st_mode & 0o777 == 0o640  # the file's mode is kept
    assert agent.config.qr.deadline_s == 0.25  # reloaded, not only written
    status = agent.status()
    assert status.versions.config == digest and status.config_error is None
    assert _expected_digest(secured) == digest
    store = Store.open(secured.db_url)
    try:
        with store.transaction() as session:
            upsert_device_status(session, status)
        settings = HubSettings(data_dir=secured.data_dir, secret_key=TEST_SECRET)
        with store.sessions() as session:
            assert not [
                lag
                for lag in lagging(session, FaceVault.for_hub(settings))
                if lag.component == "config"
            ]
    finally:
        store.close()


def test_an_invalid_config_is_refused_by_the_hub_and_nothing_is_sent(
    secured: Secured, agent: EdgeAgent
) -> None:
    config_file = agent.config_path
    assert config_file is not None
    before = config_file.read_bytes()
    code, output = _push(secured, _config(secured, qr__deadline_s=-1))
    assert code == 2 and "not pushed" in output and "qr.deadline_s" in output, output
    code, output = _push(secured, _config(secured, passage__nope=1))
    assert code == 2 and "passage.nope" in output, output
    code, output = _push(secured, b"device_id: [unclosed")
    assert code == 2 and "not valid YAML" in output, output
    other = yaml.safe_load(_config(secured))
    other["device_id"] = "gate-b1"
    code, output = _push(secured, yaml.safe_dump(other).encode())
    assert code == 2 and "is for device gate-b1" in output, output
    assert _expected_digest(secured) is None
    assert config_file.read_bytes() == before
    assert not config_file.with_name("edge.yaml.prev").exists()


def test_an_unknown_device_and_a_broker_that_is_down_are_reported(secured: Secured) -> None:
    document = _config(secured, qr__deadline_s=0.3)
    pushed = secured.tmp / "p.yaml"
    pushed.write_bytes(document)
    result = runner.invoke(
        hub_app,
        ["devices", "push-config", "gate-zz", "--file", str(pushed),
         "--data-dir", str(secured.data_dir), "--database-url", secured.db_url],
        env={"GRIDGATE_HUB_SECRET_KEY": TEST_SECRET},
    )  # fmt: skip
    assert result.exit_code == 4 and "no device 'gate-zz'" in result.output, result.output
    secured.broker.kill()
    code, output = _push(secured, document)
    assert code == 6 and "not pushed" in output, output
    assert _expected_digest(secured) is None  # recorded only once the broker took it


def _publish_as_hub(secured: Secured, push: ConfigPush) -> None:
    hub = Publisher(
        "127.0.0.1",
        secured.hub_port,
        "hub-test-push",
        username="gridgate-hub",
        password=secured.hub_password(),
    )
    hub.connect()
    try:
        hub.publish(topics.config(SITE_A, DEVICE), encode(push), retain=True)
    finally:
        hub.close()


def _raw_push(document: bytes, digest: str | None = None) -> ConfigPush:
    return ConfigPush(
        push_id=new_id(),
        device_id=DEVICE,
        digest=digest or config_digest(document),
        document=document.decode(),
        issued_at=utc_now(),
        issued_by="test",
    )


def test_the_edge_refuses_an_invalid_push_and_keeps_its_config(
    secured: Secured, agent: EdgeAgent
) -> None:
    config_file = agent.config_path
    assert config_file is not None
    before = config_file.read_bytes()
    bad = _config(secured, capture__fps=-5)  # past a hub that did not check it
    _publish_as_hub(secured, _raw_push(bad))
    wait_for(lambda: agent.status().config_error is not None, 10, "the edge to refuse it")
    status = agent.status()
    assert status.config_error is not None
    assert f"config {config_digest(bad)} refused" in status.config_error
    assert "capture.fps" in status.config_error
    assert DeviceWarning.CONFIG_REFUSED in status.warnings
    assert status.versions.config == config_digest(before)
    assert config_file.read_bytes() == before
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["edge.yaml"]

    good = _config(secured, qr__deadline_s=0.4)
    ok, detail = agent.apply_pushed_config(_raw_push(good, digest="0" * 16))
    assert not ok and "digest does not match" in detail  # a document altered on the way
    ok, detail = agent.apply_pushed_config(_raw_push(good))
    assert ok, detail
    assert agent.status().config_error is None
    assert agent.status().versions.config == config_digest(good)


def test_a_section_that_needs_a_restart_is_reported_pending_until_then(
    secured: Secured, agent: EdgeAgent
) -> None:
    config_file = agent.config_path
    assert config_file is not None
    before = agent.status().versions.config
    document = _config(secured, passage__gate_id="side")  # fine to reload
    document = yaml.safe_dump(
        {**yaml.safe_load(document), "outbox_max_events": 500}, sort_keys=True
    ).encode()
    ok, detail = agent.apply_pushed_config(_raw_push(document))
    assert ok and "restart to apply: outbox_max_events" in detail
    assert config_file.read_bytes() == document
    assert agent.status().versions.config == config_digest(document) + "-restart" != before
    ok, detail = agent.apply_pushed_config(_raw_push(document))  # retained: comes again
    assert ok and "written; restart" in detail
    restarted = EdgeAgent(load_config(config_file), config_path=config_file)
    try:
        assert restarted.status().versions.config == config_digest(document)
    finally:
        restarted.outbox.close()


def test_the_acl_lets_a_device_read_only_its_own_config() -> None:
    text = render_acl("gridgate-hub", "hub", [_device("gate-01", "site-a")])
    blocks = {b.splitlines()[1]: b.splitlines() for b in text.split("\n\n")[1:]}
    assert f"topic read {topics.config('site-a', 'gate-01')}" in blocks["user gate-01"]
    assert [r for r in blocks["user gate-01"] if "config" in r] == [
        f"topic read {topics.config('site-a', 'gate-01')}"
    ]
    assert "topic write gridgate/v1/dev/+/+/config" in blocks["user gridgate-hub"]


def test_on_the_real_broker_a_device_gets_only_its_own_config(secured: Secured) -> None:
    hub, gate_a, gate_b = secured.hub(), secured.device(DEVICE), secured.device("gate-b1")
    assert hub.accepted() and gate_a.accepted() and gate_b.accepted()
    own_a, own_b = topics.config(SITE_A, DEVICE), topics.config(SITE_B, "gate-b1")
    assert not hub.publish(own_a, b"for a", retain=True).is_failure
    assert str(gate_a.publish(own_a, b"forged", retain=True)) == "Not authorized"
    assert str(gate_b.publish(own_a, b"forged", retain=True)) == "Not authorized"
    gate_b.subscribe(own_a, topics.all_devices(topics.DeviceChannel.CONFIG), own_b)
    assert not hub.publish(own_b, b"for b", retain=True).is_failure
    assert gate_b.topics_until({own_b}) == [own_b]  # a's retained config would come first
    gate_a.subscribe(own_a)
    message = gate_a.messages.get(timeout=10)
    assert (message.topic, message.payload) == (own_a, b"for a")
    for peer in (hub, gate_a, gate_b):
        peer.close()
