"""Publish the signed trust list, retained, so every edge gets it on (re)connect."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from models import encode, topics
from models.trust import SignedTrustList


class PublishError(RuntimeError):
    """The broker did not take the message."""


def publish_trust_list(
    signed: SignedTrustList, host: str, port: int, client_id: str, timeout_s: float = 10.0
) -> None:
    """Publish ``signed`` retained (QoS 1) and wait for the broker's PUBACK."""
    connected = threading.Event()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.on_connect = lambda *args: connected.set()
    try:
        client.connect(host, port)
    except OSError as exc:
        raise PublishError(f"cannot reach the broker at {host}:{port}: {exc}") from None
    client.loop_start()
    try:
        if not connected.wait(timeout_s):
            raise PublishError(f"no CONNACK from {host}:{port}")
        info = client.publish(topics.trust_list(), encode(signed), qos=1, retain=True)
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            raise PublishError("the broker did not acknowledge the trust list")
    finally:
        client.disconnect()
        client.loop_stop()
