"""Publishing: the SQLite outbox and the MQTT link to the hub."""

from edge.publish.config import MqttConfig, OutboxConfig
from edge.publish.link import EdgeLink, LinkStats
from edge.publish.outbox import Outbox, OutboxEntry

__all__ = ["EdgeLink", "LinkStats", "MqttConfig", "Outbox", "OutboxConfig", "OutboxEntry"]
