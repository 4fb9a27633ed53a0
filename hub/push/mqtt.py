"""Alerts on the grid's MQTT topic, for grid-worker apps subscribed to their grids."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from hub.push.base import ChannelError
from models import encode, topics
from models.alerts import Alert


class MqttAlertChannel:
    """Publishes each alert (QoS 1) on ``topics.alerts(grid)``."""

    name = "mqtt"

    def __init__(self, host: str, port: int, client_id: str, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self._connected = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self._client.on_connect = lambda *args: self._connected.set()
        self._client.on_disconnect = lambda *args: self._connected.clear()
        self._client.connect_async(host, port)
        self._client.loop_start()

    def send(self, alert: Alert) -> str:
        """Publish and wait for the broker's PUBACK."""
        topic = topics.alerts(alert.grid_id)
        if not self._connected.wait(self.timeout_s):
            raise ChannelError("not connected to the broker")
        info = self._client.publish(topic, encode(alert), qos=1)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise ChannelError(f"publish refused: {info.rc}")
        info.wait_for_publish(self.timeout_s)
        if not info.is_published():
            raise ChannelError("no PUBACK from the broker")
        return topic

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
