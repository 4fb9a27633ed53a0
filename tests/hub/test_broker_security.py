"""The generated broker configuration on a real Mosquitto: who may connect, publish and read.

Every test provisions devices through the CLI, starts mosquitto with the files
``gridgate-hub broker config`` wrote, and talks to it with paho MQTT v5 clients (and the
edge's own ``EdgeLink`` loaded from a bundle).
"""

from __future__ import annotations

import getpass
import queue
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode
from typer.testing import CliRunner

from edge.config import load_config
from edge.publish.config import OutboxConfig
from edge.publish.link import EdgeLink
from edge.publish.outbox import Outbox
from hub.cli import app as hub_app
from hub.config import HubSettings
from hub.devices.pki import CertificateAuthority
from hub.mqtt import Publisher, PublishError, hub_publisher
from hub.push.base import ChannelError
from hub.push.mqtt import MqttAlertChannel
from models import topics
from models.alerts import Alert, AlertRule, Severity
from models.base import utc_now
from models.topics import DeviceChannel
from tests.support.broker import MosquittoBroker, find_mosquitto, free_port
from tests.support.factories import passage_event

HOST = "127.0.0.1"
SITE_A, SITE_B = "site-a", "site-b"
runner = CliRunner()


@dataclass
class Secured:
    """A running broker with the generated configuration and three provisioned devices."""

    tmp: Path
    data_dir: Path
    db_url: str
    broker: MosquittoBroker
    hub_port: int
    tls_port: int
    cert_port: int

    def cli(self, *args: str) -> str:
        result = runner.invoke(
            hub_app, [*args, "--data-dir", str(self.data_dir), "--database-url", self.db_url]
        )
        assert result.exit_code == 0, result.output
        return result.output

    def add(self, device: str, site: str, *extra: str) -> str:
        """Provision through the CLI, the bundle's paths pointing into the bundle; the output."""
        out = self.tmp / f"{device}-bundle"
        return self.cli(
            "devices", "add", device, "--site", site, "--out", str(out), "--install-dir", str(out),
            *extra,
        )  # fmt: skip

    def password(self, device: str) -> str:
        config = load_config(self.tmp / f"{device}-bundle" / "edge.yaml")
        assert config.mqtt.password is not None
        return config.mqtt.password.get_secret_value()

    def hub_password(self) -> str:
        return (self.data_dir / "broker" / "hub.password").read_text().strip()

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "pki" / "ca.cert.pem"

    def device(self, device: str, **extra: Any) -> Peer:
        """A password device on the TLS listener."""
        return Peer(
            self.tls_port, username=device, password=self.password(device), ca=self.ca_file, **extra
        )

    def hub(self) -> Peer:
        return Peer(self.hub_port, username="gridgate-hub", password=self.hub_password())


class Peer:
    """A paho MQTT v5 client that reports CONNACKs, PUBACK reasons and messages."""

    def __init__(
        self,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        ca: Path | None = None,
        cert: Path | None = None,
        key: Path | None = None,
    ) -> None:
        self.port = port
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._connack: queue.Queue[ReasonCode | None] = queue.Queue()
        self._acks: dict[int, ReasonCode] = {}
        self._acked = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"peer-{uuid.uuid4().hex[:12]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca is not None:
            self.client.tls_set(
                ca_certs=str(ca),
                certfile=str(cert) if cert else None,
                keyfile=str(key) if key else None,
            )
        self.client.on_connect = lambda c, u, f, reason, p: self._connack.put(reason)
        self.client.on_disconnect = lambda c, u, f, reason, p: self._connack.put(None)
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_subscribe = lambda c, u, mid, reasons, p: self._subscribed.set()
        self.client.on_publish = self._on_publish

    def _on_publish(self, c: mqtt.Client, u: Any, mid: int, reason: ReasonCode, p: Any) -> None:
        with self._acked:
            self._acks[mid] = reason
            self._acked.notify_all()

    def connect(self, timeout: float = 5.0) -> ReasonCode | None:
        """The CONNACK reason; None when the connection closed first (TLS refused)."""
        try:
            self.client.connect(HOST, self.port, keepalive=10)
        except (OSError, ssl.SSLError):
            return None
        self.client.loop_start()
        try:
            return self._connack.get(timeout=timeout)
        except queue.Empty:
            return None

    def accepted(self) -> bool:
        reason = self.connect()
        return reason is not None and not reason.is_failure

    def subscribe(self, *filters: str) -> None:
        self._subscribed.clear()
        self.client.subscribe([(f, 1) for f in filters])
        assert self._subscribed.wait(5), "no SUBACK"

    def publish(self, topic: str, payload: bytes = b"{}", retain: bool = False) -> ReasonCode:
        """QoS 1 publish; the PUBACK's reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self._acked:
            assert self._acked.wait_for(lambda: info.mid in self._acks, 5), "no PUBACK"
            return self._acks.pop(info.mid)

    def topics_until(self, wanted: set[str], timeout: float = 10.0) -> list[str]:
        """Topics received, in order, until every topic of ``wanted`` arrived."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while not wanted <= set(seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"missing {sorted(wanted - set(seen))}; got {seen}")
            try:
                seen.append(self.messages.get(timeout=remaining).topic)
            except queue.Empty:
                continue
        return seen

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def refused_eventually(make: Any, timeout: float = 10.0) -> None:
    """Connect again and again until the broker refuses (it re-reads its files on SIGHUP)."""
    deadline = time.monotonic() + timeout
    while True:
        peer: Peer = make()
        try:
            if not peer.accepted():
                return
        finally:
            peer.close()
        if time.monotonic() > deadline:
            pytest.fail("the broker still accepts the revoked device")
        time.sleep(0.1)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Secured]:
    if find_mosquitto() is None:
        pytest.fail("mosquitto is not installed: run `make setup`")
    work = tmp_path / "broker"
    (work / "data").mkdir(parents=True)
    ports = free_port(), free_port(), free_port()
    config = work / "etc" / "mosquitto.conf"
    setup = Secured(
        tmp=tmp_path,
        data_dir=tmp_path / "hub",
        db_url=f"sqlite:///{tmp_path / 'hub.db'}",
        broker=MosquittoBroker(work, port=ports[0], config_file=config),
        hub_port=ports[0],
        tls_port=ports[1],
        cert_port=ports[2],
    )
    setup.cli(
        "broker", "config",
        "--out", str(config.parent),
        "--host", HOST, "--host", "localhost",
        "--bind", HOST,
        "--hub-port", str(setup.hub_port),
        "--tls-port", str(setup.tls_port),
        "--cert-port", str(setup.cert_port),
        "--pid-file", str(work / "mosquitto.pid"),
        "--persistence-dir", str(work / "data"),
        "--log-file", str(work / "mosquitto.log"),
        "--run-as-user", getpass.getuser(),  # as root, stay root: tmp files are root's
    )  # fmt: skip
    setup.add("gate-a1", SITE_A)
    setup.add("gate-b1", SITE_B)
    setup.add("kiosk-a2", SITE_A, "--kind", "kiosk", "--cert")
    setup.broker.start()
    yield setup
    setup.broker.kill()


def test_anonymous_and_wrong_passwords_are_refused(secured: Secured) -> None:
    hub_anonymous = Peer(secured.hub_port)
    device_anonymous = Peer(secured.tls_port, ca=secured.ca_file)
    wrong = Peer(secured.tls_port, username="gate-a1", password="not-it", ca=secured.ca_file)
    other = Peer(
        secured.tls_port,
        username="gate-a1",
        password=secured.password("gate-b1"),
        ca=secured.ca_file,
    )
    hub_wrong = Peer(secured.hub_port, username="gridgate-hub", password="guess")
    for peer in (hub_anonymous, device_anonymous, wrong, other, hub_wrong):
        reason = peer.connect()
        peer.close()
        assert reason is not None and reason.is_failure, reason
    right = secured.device("gate-a1")  # the broker verified the hub-written $7$ hash
    assert right.accepted()
    right.close()


def test_a_device_publishes_only_under_its_own_site_and_id(secured: Secured) -> None:
    hub = secured.hub()
    assert hub.accepted()
    hub.subscribe(topics.shared(topics.all_devices(DeviceChannel.EVENTS)))
    device = secured.device("gate-a1")
    assert device.accepted()
    own = topics.events(SITE_A, "gate-a1")
    forbidden = [
        topics.events(SITE_B, "gate-b1"),  # another device
        topics.events(SITE_B, "gate-a1"),  # its own id under another site
        topics.ack(SITE_A, "gate-a1"),  # the hub's side of its own topics
        topics.cmd(SITE_B, "gate-b1"),
        topics.trust_list(),  # forging the trust list or a gallery
        topics.gallery(SITE_A),
        topics.alerts("grid-1"),
    ]
    assert not device.publish(own, b"1").is_failure
    for topic in forbidden:
        assert str(device.publish(topic, b"x")) == "Not authorized", topic
    assert not device.publish(own, b"2").is_failure
    seen = hub.topics_until({own})
    second = hub.messages.get(timeout=10)
    # Same publisher, same subscriber: a forbidden message would have arrived between these.
    assert seen == [own] and second.topic == own and second.payload == b"2"
    device.close()
    hub.close()


def test_a_device_reads_only_its_own_commands_its_site_gallery_and_the_trust_list(
    secured: Secured,
) -> None:
    hub = secured.hub()
    assert hub.accepted()
    device = secured.device("gate-a1")
    assert device.accepted()
    device.subscribe(
        topics.cmd(SITE_B, "gate-b1"),
        topics.all_devices(DeviceChannel.CMD),
        topics.gallery(SITE_B),
        topics.ack(SITE_A, "gate-a1"),
        topics.cmd(SITE_A, "gate-a1"),
        topics.gallery(SITE_A),
        topics.trust_list(),
    )
    for topic in (topics.cmd(SITE_B, "gate-b1"), topics.gallery(SITE_B)):
        assert not hub.publish(topic).is_failure  # sent first: would arrive first
    allowed = {
        topics.cmd(SITE_A, "gate-a1"),
        topics.ack(SITE_A, "gate-a1"),
        topics.gallery(SITE_A),
        topics.trust_list(),
    }
    for topic in sorted(allowed):
        assert not hub.publish(topic).is_failure
    assert set(device.topics_until(allowed)) == allowed
    device.close()
    hub.close()


def test_the_hubs_alert_publisher_logs_in_and_an_anonymous_one_is_refused(
    secured: Secured,
) -> None:
    settings = HubSettings(
        data_dir=secured.tmp / "hub",
        mqtt_port=secured.hub_port,
        mqtt_username="gridgate-hub",
        mqtt_password=secured.hub_password(),
        secret_key="k" * 40,
    )
    publisher = hub_publisher(settings, "push", timeout_s=5)
    channel = MqttAlertChannel(publisher)
    try:
        assert channel.send(_grid_alert("grid-7")) == topics.alerts("grid-7")  # PUBACK: success
        with pytest.raises(PublishError, match="refused"):  # the ACL's "Not authorized" PUBACK
            publisher.publish(topics.cmd(SITE_A, "gate-a1") + "/forged", b"{}")
    finally:
        channel.close()
    anonymous = MqttAlertChannel(Publisher(HOST, secured.hub_port, "anonymous", timeout_s=2))
    try:
        with pytest.raises(ChannelError, match="refused"):
            anonymous.send(_grid_alert("grid-7"))
    finally:
        anonymous.close()


def _grid_alert(grid: str) -> Alert:
    now = utc_now()
    return Alert(
        alert_id=uuid.uuid4(),
        rule=AlertRule.RED_CODE,
        severity=Severity.MAJOR,
        grid_id=grid,
        site_id=SITE_A,
        subject_ref="holder:1",
        summary="red code",
        raised_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize("device", ["gate-a1", "kiosk-a2"])
def test_a_bundle_connects_the_edge_link_as_is(secured: Secured, device: str) -> None:
    config = load_config(secured.tmp / f"{device}-bundle" / "edge.yaml")
    assert config.mqtt.host == HOST and config.mqtt.tls_ca_file is not None
    hub = secured.hub()
    assert hub.accepted()
    hub.subscribe(topics.shared(topics.all_devices(DeviceChannel.EVENTS)))
    event = passage_event(config.device_id, config.site_id, faces=0)
    with (
        Outbox(OutboxConfig(path=secured.tmp / "outbox.db", fsync=False)) as outbox,
        EdgeLink(config.mqtt, outbox, site_id=config.site_id, device_id=config.device_id) as link,
    ):
        assert link.wait_ready(10)
        link.submit(event)
        message = hub.messages.get(timeout=10)
    assert message.topic == topics.events(config.site_id, config.device_id)
    assert str(event.event_id) in message.payload.decode()
    hub.close()


def test_tls_needs_the_hub_ca_and_the_certificate_listener_a_client_certificate(
    secured: Secured,
) -> None:
    stranger_ca = CertificateAuthority.load_or_create(secured.tmp / "other-ca")
    (secured.tmp / "other-ca.pem").write_bytes(stranger_ca.cert_pem)
    password = secured.password("gate-a1")
    bundle = secured.tmp / "kiosk-a2-bundle"
    forged = stranger_ca.issue_client("kiosk-a2")
    (secured.tmp / "forged.cert.pem").write_bytes(forged.cert_pem)
    (secured.tmp / "forged.key.pem").write_bytes(forged.key_pem)
    refused = [
        Peer(
            secured.tls_port,
            username="gate-a1",
            password=password,
            ca=secured.tmp / "other-ca.pem",
        ),
        Peer(secured.cert_port, ca=secured.ca_file),  # no client certificate
        Peer(  # a certificate with the right name from another CA
            secured.cert_port,
            ca=secured.ca_file,
            cert=secured.tmp / "forged.cert.pem",
            key=secured.tmp / "forged.key.pem",
        ),
    ]
    for peer in refused:
        assert not peer.accepted()
        peer.close()
    good = Peer(
        secured.cert_port,
        ca=bundle / "ca.cert.pem",
        cert=bundle / "client.cert.pem",
        key=bundle / "client.key.pem",
    )
    assert good.accepted()
    good.close()


def test_a_revoked_password_device_is_refused_after_the_reload(secured: Secured) -> None:
    connected = secured.device("gate-a1")
    assert connected.accepted()
    output = secured.cli("devices", "revoke", "gate-a1")
    assert "SIGHUP" in output
    refused_eventually(lambda: secured.device("gate-a1"))
    # The broker re-checks connected clients on reload and drops the revoked one.
    deadline = time.monotonic() + 10
    while connected.client.is_connected():
        assert time.monotonic() < deadline, "the revoked device stayed connected"
        time.sleep(0.05)
    connected.close()
    other = secured.device("gate-b1")
    assert other.accepted()
    other.close()


def test_a_revoked_certificate_is_refused_after_the_reload(secured: Secured) -> None:
    bundle = secured.tmp / "kiosk-a2-bundle"

    def kiosk() -> Peer:
        return Peer(
            secured.cert_port,
            ca=bundle / "ca.cert.pem",
            cert=bundle / "client.cert.pem",
            key=bundle / "client.key.pem",
        )

    connected = kiosk()
    assert connected.accepted()
    own = topics.events(SITE_A, "kiosk-a2")
    assert not connected.publish(own).is_failure
    secured.cli("devices", "revoke", "kiosk-a2")
    refused_eventually(kiosk)
    # Still connected over its TLS session, but its ACL block is gone: no topic is left.
    if connected.client.is_connected():
        assert str(connected.publish(own)) == "Not authorized"
    connected.close()


def test_a_device_added_while_the_broker_runs_gets_in_after_the_reload(
    secured: Secured,
) -> None:
    output = secured.add("gate-b2", SITE_B)
    assert "SIGHUP" in output
    deadline = time.monotonic() + 10
    while True:
        peer = secured.device("gate-b2")
        ok = peer.accepted()
        peer.close()
        if ok:
            break
        assert time.monotonic() < deadline, "the new device was never accepted"
        time.sleep(0.1)
