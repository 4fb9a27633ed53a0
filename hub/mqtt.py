"""The hub's MQTT publisher for messages that must reach the broker: alerts, the trust list.

Each publish is QoS 1 and waits for the broker's PUBACK, so a caller knows it was taken.
"""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion


class PublishError(RuntimeError):
    """The broker could not be reached or did not take the message."""


class Publisher:
    """One MQTT v5 connection used to publish and confirm messages."""

    def __init__(self, host: str, port: int, client_id: str, timeout_s: float = 5.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._connected = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self._client.on_connect = lambda *args: self._connected.set()
        self._client.on_disconnect = lambda *args: self._connected.clear()

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
            raise PublishError(f"not connected to the broker at {self.host}:{self.port}")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise PublishError(f"publish refused: {info.rc}")
        info.wait_for_publish(self.timeout_s)
        if not info.is_published():
            raise PublishError("no PUBACK from the broker")

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
