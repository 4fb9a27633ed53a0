"""Every MQTT client socket sends at once: no Nagle delay on events, acks and alerts."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.broker import MosquittoBroker, find_mosquitto
from hub.mqtt import Publisher
from models.transport import without_nagle

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto not installed")


def _nodelay(client: mqtt.Client) -> int:
    sock = client.socket()
    assert isinstance(sock, socket.socket)
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def _connected(client: mqtt.Client, broker: MosquittoBroker) -> mqtt.Client:
    client.connect(broker.host, broker.port)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.is_connected()
    return client


def _client(name: str) -> mqtt.Client:
    return mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=name, protocol=MQTTProtocolVersion.MQTTv5
    )


def test_without_nagle_sets_tcp_nodelay_on_each_socket_even_after_a_reconnect(
    tmp_path: Path,
) -> None:
    broker = MosquittoBroker(tmp_path / "broker")
    broker.start()
    plain = _connected(_client("plain"), broker)
    quick = _connected(without_nagle(_client("quick")), broker)
    try:
        assert _nodelay(plain) == 0  # paho's default: Nagle on
        assert _nodelay(quick) != 0
        broker.restart()
        deadline = time.monotonic() + 20
        while not quick.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert quick.is_connected()
        assert _nodelay(quick) != 0  # the new socket too
    finally:
        for client in (plain, quick):
            client.disconnect()
            client.loop_stop()
        broker.stop()
    assert "set_tcp_nodelay true" in broker.config_path.read_text()


def test_the_hubs_publisher_socket_has_no_nagle_delay(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path / "broker")
    broker.start()
    publisher = Publisher(broker.host, broker.port, client_id="hub-push")
    try:
        publisher.start()
        publisher.publish("gridgate/v1/alerts/G1", b"{}")
        assert _nodelay(publisher._client) != 0
    finally:
        publisher.close()
        broker.stop()
