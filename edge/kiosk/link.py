"""The edge link of a kiosk: the same MQTT session, also publishing registration requests."""

from __future__ import annotations

from edge.publish.link import EdgeLink


class KioskLink(EdgeLink):
    """An :class:`EdgeLink` that can publish other durable streams' messages (QoS 1)."""

    @property
    def ready(self) -> bool:
        """Connected and subscribed (acks can arrive)."""
        with self._lock:
            return self._ready

    def publish(self, topic: str, payload: bytes) -> bool:
        """Publish once, QoS 1; False when not ready or paho's queue is full.

        Delivery is the caller's business: it keeps the message until the hub's ack and
        calls again after a timeout.
        """
        return self.ready and self._publish(topic, payload) is not None
