"""Alerts on the grid's MQTT topic, for grid-worker apps subscribed to their grids."""

from __future__ import annotations

from hub.mqtt import Publisher, PublishError
from hub.push.base import ChannelError
from models import encode, topics
from models.alerts import Alert


class MqttAlertChannel:
    """Publishes each alert (QoS 1) on ``topics.alerts(grid)``."""

    name = "mqtt"

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher
        self._publisher.start()

    def send(self, alert: Alert) -> str:
        """Publish and wait for the broker's PUBACK."""
        topic = topics.alerts(alert.grid_id)
        try:
            self._publisher.publish(topic, encode(alert))
        except PublishError as exc:
            raise ChannelError(str(exc)) from None
        return topic

    def close(self) -> None:
        """Disconnect."""
        self._publisher.close()
