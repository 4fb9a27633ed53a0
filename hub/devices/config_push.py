"""Push an edge config to one device: validated here as the edge would, its digest recorded as
the version the device should report, sent retained on the device's own ``config`` topic (so a
device that is offline gets it when it reconnects).

The edge checks the document again, writes it over its config file (keeping the old one as
``.prev``), reloads, and reports ``versions.config`` = the digest, or ``config_error`` when it
refused it; ``devices lagging`` lists devices whose reported digest is not the pushed one.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from edge.config import ConfigError, EdgeConfig
from hub.config import HubSettings
from hub.devices.registry import DeviceError, UnknownDeviceError
from hub.mqtt import Publisher, connect_persistent, hub_client
from hub.store.device_tables import RegisteredDeviceRow
from models import ContractError, DeviceStatus, decode, encode, topics
from models.base import new_id
from models.codec import field_errors
from models.commands import MAX_CONFIG_BYTES, ConfigPush, config_digest


class ConfigPushError(ValueError):
    """A config that cannot be pushed to that device; the message says why."""


def validate_edge_config(document: bytes, source: str) -> EdgeConfig:
    """``document`` as the edge agent would load it; :class:`ConfigError` names each bad field."""
    if len(document) > MAX_CONFIG_BYTES:
        raise ConfigError(source, [f"larger than {MAX_CONFIG_BYTES} bytes"])
    try:
        data = yaml.safe_load(document.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(source, ["not UTF-8 text"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, ["the top level must be a mapping"])
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"{e.path or '<root>'}: {e.message}" for e in field_errors(exc)]
        raise ConfigError(source, problems) from None


def prepare_push(
    session: Session, device_id: str, document: bytes, source: str, now: datetime, issued_by: str
) -> tuple[str, ConfigPush]:
    """Check ``document`` for ``device_id`` and record its digest as the device's expected
    config (in ``session``: commit only once the broker took the push). Returns the topic and
    the message."""
    row = session.get(RegisteredDeviceRow, device_id)
    if row is None:
        raise UnknownDeviceError(f"no device {device_id!r} in the registry")
    if row.revoked_at is not None:
        raise DeviceError(f"device {device_id} is revoked ({row.revoked_at:%Y-%m-%d})")
    config = validate_edge_config(document, source)
    if (config.device_id, config.site_id) != (row.device_id, row.site_id):
        raise ConfigPushError(
            f"{source} is for device {config.device_id} of site {config.site_id}, not "
            f"{row.device_id} of site {row.site_id}"
        )
    digest = config_digest(document)
    row.config_digest, row.config_pushed_at = digest, now
    push = ConfigPush(
        push_id=new_id(),
        device_id=device_id,
        digest=digest,
        document=document.decode("utf-8"),
        issued_at=now,
        issued_by=issued_by,
    )
    return topics.config(row.site_id, device_id), push


def send_push(publisher: Publisher, topic: str, push: ConfigPush) -> None:
    """Publish the push retained and wait for the broker's PUBACK (:class:`PublishError`)."""
    publisher.publish(topic, encode(push), retain=True)


@dataclass(frozen=True)
class PushOutcome:
    """What the device's status said about a pushed digest: applied, or refused and why."""

    applied: bool
    detail: str


def wait_for_outcome(
    settings: HubSettings, site_id: str, device_id: str, digest: str, timeout_s: float
) -> PushOutcome | None:
    """Watch the device's status until it reports ``digest`` applied or refused; None when
    neither within ``timeout_s`` (offline, or a restart-only section changed)."""
    outcome: list[PushOutcome] = []
    done = threading.Event()

    def on_message(_client: Any, _userdata: Any, message: Any) -> None:
        try:
            status = decode(DeviceStatus, bytes(message.payload))
        except ContractError:
            return
        if status.versions.config == digest:
            outcome.append(PushOutcome(True, f"{device_id} reports config {digest}"))
            done.set()
        elif status.config_error and digest in status.config_error:
            outcome.append(PushOutcome(False, status.config_error))
            done.set()

    client = hub_client(settings, f"{settings.mqtt_client_id}-push-{uuid.uuid4().hex[:8]}")
    client.on_connect = lambda c, *_: c.subscribe(topics.status(site_id, device_id), qos=1)
    client.on_message = on_message
    quick = settings.model_copy(update={"session_expiry_s": 0})  # a throwaway session
    connect_persistent(client, quick)
    try:
        done.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return outcome[0] if outcome else None
