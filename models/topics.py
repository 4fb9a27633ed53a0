"""The MQTT topic map: the only place a gridgate topic string is written.

Conventions: no leading slash, a version level, the site and device ids in device topics,
retained status with a last will, commands and replies correlated by ``command_id``.

=====================================================  =========  =======  ========
topic                                                  direction  QoS      retained
=====================================================  =========  =======  ========
gridgate/v1/dev/<site>/<device>/events                 edge→hub   1        no
gridgate/v1/dev/<site>/<device>/status                 edge→hub   1        yes (+ will)
gridgate/v1/dev/<site>/<device>/ack                    hub→edge   1        no
gridgate/v1/dev/<site>/<device>/cmd                    hub→edge   1        no
gridgate/v1/dev/<site>/<device>/cmd/reply              edge→hub   1        no
gridgate/v1/dev/<site>/<device>/registrations          edge→hub   1        no
gridgate/v1/dev/<site>/<device>/registrations/ack      hub→edge   1        no
gridgate/v1/dev/<site>/<device>/config                 hub→edge   1        yes
gridgate/v1/site/<site>/gallery                        hub→edges  1        yes
gridgate/v1/trust                                      hub→edges  1        yes
gridgate/v1/alerts/<grid>                              hub→grid   1        no
=====================================================  =========  =======  ========
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from models.base import IDENTIFIER_RE

ROOT = "gridgate/v1"
HUB_SHARE_GROUP = "hub"


class DeviceChannel(StrEnum):
    """The per-device topics, by their last level(s)."""

    EVENTS = "events"
    STATUS = "status"
    ACK = "ack"
    CMD = "cmd"
    CMD_REPLY = "cmd/reply"
    REGISTRATIONS = "registrations"
    REGISTRATION_ACK = "registrations/ack"
    CONFIG = "config"


class TopicError(ValueError):
    """A topic that is not one of gridgate's, or an id that cannot be a topic level."""


def _level(value: str, what: str) -> str:
    if not IDENTIFIER_RE.match(value):
        raise TopicError(f"{what} {value!r} cannot be an MQTT topic level")
    return value


def device(site_id: str, device_id: str, channel: DeviceChannel) -> str:
    """The topic of one device channel."""
    return f"{ROOT}/dev/{_level(site_id, 'site id')}/{_level(device_id, 'device id')}/{channel}"


def events(site_id: str, device_id: str) -> str:
    """Where a device publishes its passage events."""
    return device(site_id, device_id, DeviceChannel.EVENTS)


def status(site_id: str, device_id: str) -> str:
    """A device's retained status (and last will)."""
    return device(site_id, device_id, DeviceChannel.STATUS)


def ack(site_id: str, device_id: str) -> str:
    """Where the hub acknowledges a device's committed events."""
    return device(site_id, device_id, DeviceChannel.ACK)


def cmd(site_id: str, device_id: str) -> str:
    """Commands to a device."""
    return device(site_id, device_id, DeviceChannel.CMD)


def cmd_reply(site_id: str, device_id: str) -> str:
    """A device's replies to commands."""
    return device(site_id, device_id, DeviceChannel.CMD_REPLY)


def registrations(site_id: str, device_id: str) -> str:
    """Where a kiosk publishes self-registration requests."""
    return device(site_id, device_id, DeviceChannel.REGISTRATIONS)


def registration_ack(site_id: str, device_id: str) -> str:
    """Where the hub acknowledges a kiosk's registration requests."""
    return device(site_id, device_id, DeviceChannel.REGISTRATION_ACK)


def config(site_id: str, device_id: str) -> str:
    """The device's retained pushed config (``gridgate-hub devices push-config``)."""
    return device(site_id, device_id, DeviceChannel.CONFIG)


def gallery(site_id: str) -> str:
    """Retained gallery manifest (version and download URL) for a site's edges."""
    return f"{ROOT}/site/{_level(site_id, 'site id')}/gallery"


def trust_list() -> str:
    """Retained, hub-signed trust list of health-code issuers."""
    return f"{ROOT}/trust"


def alerts(grid_id: str) -> str:
    """Alerts for the grid workers of one grid."""
    return f"{ROOT}/alerts/{_level(grid_id, 'grid id')}"


def all_devices(channel: DeviceChannel) -> str:
    """Subscription filter for one channel of every device."""
    return f"{ROOT}/dev/+/+/{channel}"


def all_galleries() -> str:
    """Filter matching every site's gallery manifest (the hub's publish right in the ACL)."""
    return f"{ROOT}/site/+/gallery"


def all_alerts() -> str:
    """Filter matching every grid's alert topic (the hub's publish right in the ACL)."""
    return f"{ROOT}/alerts/+"


def shared(topic_filter: str, group: str = HUB_SHARE_GROUP) -> str:
    """An MQTT v5 shared subscription, so several hub workers split the load."""
    return f"$share/{_level(group, 'share group')}/{topic_filter}"


@dataclass(frozen=True)
class DeviceTopic:
    """A parsed device topic."""

    site_id: str
    device_id: str
    channel: DeviceChannel


@functools.lru_cache(maxsize=8192)  # a hub sees the same few topics over and over
def parse_device_topic(topic: str) -> DeviceTopic:
    """Split a device topic into site, device and channel; raise :class:`TopicError`."""
    prefix = f"{ROOT}/dev/"
    if not topic.startswith(prefix):
        raise TopicError(f"not a gridgate device topic: {topic!r}")
    parts = topic[len(prefix) :].split("/", 2)
    if len(parts) != 3:
        raise TopicError(f"not a gridgate device topic: {topic!r}")
    site_id, device_id, rest = parts
    try:
        channel = DeviceChannel(rest)
    except ValueError:
        raise TopicError(f"unknown device channel {rest!r} in {topic!r}") from None
    return DeviceTopic(_level(site_id, "site id"), _level(device_id, "device id"), channel)


def topic_map() -> list[dict[str, str]]:
    """The topic map as rows (for docs, ``gridgate topics`` and non-Python clients)."""
    s, d = "<site>", "<device>"
    rows = [
        (f"{ROOT}/dev/{s}/{d}/events", "edge→hub", "PassageEvent", "1", "no"),
        (f"{ROOT}/dev/{s}/{d}/status", "edge→hub", "DeviceStatus", "1", "yes, last will"),
        (f"{ROOT}/dev/{s}/{d}/ack", "hub→edge", "EventAck", "1", "no"),
        (f"{ROOT}/dev/{s}/{d}/cmd", "hub→edge", "DeviceCommand", "1", "no"),
        (f"{ROOT}/dev/{s}/{d}/cmd/reply", "edge→hub", "CommandResult", "1", "no"),
        (f"{ROOT}/dev/{s}/{d}/registrations", "edge→hub", "RegistrationRequest", "1", "no"),
        (f"{ROOT}/dev/{s}/{d}/registrations/ack", "hub→edge", "RegistrationAck", "1", "no"),
        (f"{ROOT}/dev/{s}/{d}/config", "hub→edge", "ConfigPush", "1", "yes"),
        (f"{ROOT}/site/{s}/gallery", "hub→edges", "gallery manifest", "1", "yes"),
        (f"{ROOT}/trust", "hub→edges", "signed trust list", "1", "yes"),
        (f"{ROOT}/alerts/<grid>", "hub→grid workers", "Alert", "1", "no"),
    ]
    keys = ("topic", "direction", "payload", "qos", "retained")
    return [dict(zip(keys, row, strict=True)) for row in rows]
