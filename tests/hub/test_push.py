"""Push channels against real peers: a local HTTP server for webhooks, Mosquitto for MQTT."""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub.mqtt import Publisher
from hub.push.base import ChannelError
from hub.push.mqtt import MqttAlertChannel
from hub.push.webhook import WebhookChannel, signature
from models import Alert, decode, topics
from models.alerts import AlertRule, Severity
from models.base import utc_now
from tests.support.broker import MosquittoBroker

SECRET = b"webhook-secret-for-tests"


def _alert(grid: str = "grid-1") -> Alert:
    now = utc_now()
    return Alert(
        alert_id=uuid.uuid4(),
        rule=AlertRule.RED_CODE,
        severity=Severity.CRITICAL,
        grid_id=grid,
        site_id="site-a",
        gate_id="north",
        subject_ref="r-1",
        summary="red code at site-a/north",
        raised_at=now,
        updated_at=now,
    )


class Receiver(BaseHTTPRequestHandler):
    """A local HTTP endpoint keeping what was POSTed (headers and body) and where (path)."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    paths: ClassVar[list[str]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving_receiver() -> Iterator[tuple[str, type[Receiver]]]:
    """A local HTTP server recording what it receives: its base URL and its handler class."""
    handler = type("R", (Receiver,), {"received": [], "paths": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    with serving_receiver() as (base, handler):
        yield f"{base}/hook", handler


def test_webhook_is_signed_and_verifiable(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    channel = WebhookChannel(url, SECRET)
    alert = _alert()
    assert channel.send(alert) == url
    channel.close()
    ((headers, body),) = handler.received
    expected = signature(SECRET, headers["X-Gridgate-Timestamp"], body)
    assert hmac.compare_digest(headers["X-Gridgate-Signature"], expected)
    assert signature(b"another-secret", headers["X-Gridgate-Timestamp"], body) != expected
    message = json.loads(body)
    assert message["msgtype"] == "markdown"
    assert "red_code" in message["markdown"]["text"]
    assert message["alert"]["alert_id"] == str(alert.alert_id)


def test_webhook_failure_is_a_channel_error(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    handler.status = 500
    with pytest.raises(ChannelError, match="HTTP 500"):
        WebhookChannel(url, SECRET).send(_alert())
    with pytest.raises(ChannelError):
        WebhookChannel("http://127.0.0.1:9/none", SECRET, timeout_s=1).send(_alert())


def test_mqtt_channel_publishes_on_the_grid_topic(broker: MosquittoBroker) -> None:
    got: list[Alert] = []
    ready = threading.Event()
    arrived = threading.Event()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="grid-worker-app",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.on_subscribe = lambda *args: ready.set()

    def on_message(c: mqtt.Client, u: object, message: mqtt.MQTTMessage) -> None:
        got.append(decode(Alert, bytes(message.payload)))
        arrived.set()

    client.on_message = on_message
    client.on_connect = lambda c, *args: c.subscribe(topics.alerts("grid-7"), qos=1)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert ready.wait(10)
        channel = MqttAlertChannel(Publisher(broker.host, broker.port, "hub-push-test"))
        assert channel.send(_alert("grid-8")) == topics.alerts("grid-8")
        assert channel.send(_alert("grid-7")) == topics.alerts("grid-7")
        assert arrived.wait(10)
        channel.close()
    finally:
        client.disconnect()
        client.loop_stop()
    assert [a.grid_id for a in got] == ["grid-7"]
