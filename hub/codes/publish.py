"""Publish the signed trust list, retained, so every edge gets it on (re)connect."""

from __future__ import annotations

from hub.mqtt import Publisher, PublishError
from models import encode, topics
from models.trust import SignedTrustList

__all__ = ["PublishError", "publish_trust_list"]


def publish_trust_list(
    signed: SignedTrustList,
    host: str,
    port: int,
    client_id: str,
    timeout_s: float = 10.0,
    *,
    username: str | None = None,
    password: str | None = None,
) -> None:
    """Publish ``signed`` retained (QoS 1) and wait for the broker's PUBACK."""
    publisher = Publisher(host, port, client_id, timeout_s, username=username, password=password)
    publisher.connect()
    try:
        publisher.publish(topics.trust_list(), encode(signed), retain=True)
    finally:
        publisher.close()
