"""The hub's MQTT publisher for messages that must reach the broker: alerts, the trust list.

Each publish is QoS 1 and waits for the broker's PUBACK, so a caller knows it was taken.
"""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from hub.config import HubSettings
from models.transport import without_nagle


class PublishError(RuntimeError):
    """The broker could not be reached or did not take the message."""


class Publisher:
    """One MQTT v5 connection used to publish and confirm messages."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        timeout_s: float = 5.0,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.refusal: str | None = None
        self._connected = threading.Event()
        self._client = without_nagle(
            mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self._pubacks: dict[int, ReasonCode] = {}
        self._pubacks_lock = threading.Lock()
        self._client.on_disconnect = lambda *args: self._connected.clear()

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            self.refusal = str(reason)
        else:
            self.refusal = None
            self._connected.set()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        with self._pubacks_lock:
            self._pubacks[mid] = reason

    def start(self) -> None:
        """Connect in the background, retrying: the broker may come up later."""
        self._client.connect_async(self.host, self.port)
        self._client.loop_start()

    def connect(self) -> None:
        """Connect now; :class:`PublishError` when the broker cannot be reached."""
        try:
            self._client.connect(self.host, self.port)
        except OSError as exc:
            raise PublishError(
                f"cannot reach the broker at {self.host}:{self.port}: {exc}"
            ) from None
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish with QoS 1 and wait for the PUBACK."""
        if not self._connected.wait(self.timeout_s):
            why = f" (refused: {self.refusal})" if self.refusal else ""
            raise PublishError(f"not connected to the broker at {self.host}:{self.port}{why}")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise PublishError(f"publish refused: {info.rc}")
        info.wait_for_publish(self.timeout_s)
        if not info.is_published():
            raise PublishError("no PUBACK from the broker")
        with self._pubacks_lock:
            reason = self._pubacks.pop(info.mid, None)
        if reason is not None and reason.is_failure:  # e.g. "Not authorized" by the ACL
            raise PublishError(f"the broker refused {topic}: {reason}")

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()


def hub_publisher(settings: HubSettings, suffix: str, timeout_s: float = 5.0) -> Publisher:
    """A publisher logged in as the hub (``mqtt_username``/``mqtt_password`` when set)."""
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
    return Publisher(
        settings.mqtt_host,
        settings.mqtt_port,
        f"{settings.mqtt_client_id}-{suffix}",
        timeout_s,
        username=settings.mqtt_username,
        password=password,
    )


def hub_client(settings: HubSettings, client_id: str) -> mqtt.Client:
    """An MQTT v5 client of the hub's consumers: the hub's broker login, no Nagle delay, and
    reconnects every 1-10 s (pair it with :func:`connect_persistent`)."""
    client = without_nagle(
        mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
    )
    if settings.mqtt_username is not None:
        password = settings.mqtt_password
        client.username_pw_set(
            settings.mqtt_username, password.get_secret_value() if password else None
        )
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    return client


def connect_persistent(client: mqtt.Client, settings: HubSettings, keepalive_s: int = 30) -> None:
    """Connect ``client`` in the background with the hub's MQTT v5 persistent session: the
    broker keeps its subscriptions and queues its messages for ``session_expiry_s`` while it
    is away (clean_start alone does not keep a v5 session)."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho
    props.SessionExpiryInterval = settings.session_expiry_s
    client.connect_async(
        settings.mqtt_host,
        settings.mqtt_port,
        keepalive=keepalive_s,
        clean_start=settings.session_expiry_s == 0,
        properties=props,
    )
    client.loop_start()
