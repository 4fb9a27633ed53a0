"""The broker profile: how ``gridgate-hub broker config`` laid the broker out, kept in the
hub's data directory so that ``devices add`` and ``devices revoke`` regenerate the same files
and reload the same broker."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.devices.files import write_file
from models.base import Identifier
from models.topics import HUB_SHARE_GROUP

Port = int | None


class ProfileError(RuntimeError):
    """No broker profile yet, or one that cannot be read."""


class BrokerProfile(BaseModel):
    """Where the generated broker files go, which listeners they open, and who the hub is."""

    model_config = ConfigDict(extra="forbid")

    out_dir: Path = Field(
        title="Broker directory",
        description="Where mosquitto.conf, the password, ACL, certificate and CRL files go.",
    )
    hosts: list[str] = Field(
        min_length=1,
        title="Broker host names",
        description="DNS names or addresses devices reach the broker by: all go into the "
        "server certificate, the first into the edge bundles.",
    )
    bind_address: str = Field(
        "",
        title="Device listener address",
        description="Address the device listeners bind; empty: every interface.",
    )
    tls_port: Port = Field(
        8883,
        ge=1,
        le=65535,
        title="TLS port",
        description="Listener for devices with a password, over TLS; null: none.",
    )
    cert_port: Port = Field(
        8884,
        ge=1,
        le=65535,
        title="Client-certificate port",
        description="Listener for devices with a client certificate (mutual TLS; the "
        "certificate's common name is the user name); null: none.",
    )
    hub_port: Port = Field(
        1883,
        ge=1,
        le=65535,
        title="Hub port",
        description="Plain listener on 127.0.0.1 for hub processes on the broker's host "
        "(password login as well); null: none.",
    )
    hub_username: Identifier = Field(
        "gridgate-hub",
        title="Hub user",
        description="Broker user of the hub's processes; no device may take this id.",
    )
    share_group: Identifier = Field(
        HUB_SHARE_GROUP,
        title="Share group",
        description="Shared-subscription group of the hub's ingest workers.",
    )
    pid_file: Path | None = Field(
        None,
        title="PID file",
        description="Written by mosquitto; when set, add/revoke send that process SIGHUP so "
        "it re-reads the password, ACL, certificate and CRL files.",
    )
    persistence_dir: Path = Field(
        Path("/var/lib/mosquitto"),
        title="Persistence directory",
        description="Where mosquitto keeps its snapshot (writable by the broker's user).",
    )
    autosave_interval_s: int = Field(
        10,
        ge=1,
        le=3600,
        title="Autosave interval (s)",
        description="How often the broker snapshots retained messages and queues.",
    )
    run_as_user: str | None = Field(
        None,
        title="Run as user",
        description="mosquitto's `user` option: the account it switches to when started as "
        "root; unset: its default (mosquitto).",
    )
    log_file: Path | None = Field(
        None, title="Log file", description="mosquitto's log file; unset: its default."
    )

    @model_validator(mode="after")
    def _coherent(self) -> BrokerProfile:
        if self.tls_port is None and self.cert_port is None:
            raise ValueError("devices need a listener: set tls_port, cert_port or both")
        ports = [p for p in (self.tls_port, self.cert_port, self.hub_port) if p is not None]
        if len(ports) != len(set(ports)):
            raise ValueError(f"listener ports must differ: {ports}")
        return self


@dataclass(frozen=True)
class HubPaths:
    """The hub's files for devices and the broker, under its data directory."""

    data_dir: Path

    @property
    def pki_dir(self) -> Path:
        """The CA (``ca.key.pem`` 0600, ``ca.cert.pem``)."""
        return self.data_dir / "pki"

    @property
    def profile(self) -> Path:
        """The saved :class:`BrokerProfile`."""
        return self.data_dir / "broker" / "profile.json"

    @property
    def hub_password(self) -> Path:
        """The hub's own broker password (0600), for GRIDGATE_HUB_MQTT_PASSWORD."""
        return self.data_dir / "broker" / "hub.password"


def save_profile(paths: HubPaths, profile: BrokerProfile) -> None:
    """Remember the profile for later add/revoke runs."""
    write_file(paths.profile, profile.model_dump_json(indent=2) + "\n")


def load_profile(paths: HubPaths) -> BrokerProfile:
    """The saved profile; :class:`ProfileError` if there is none or it is broken."""
    try:
        raw = paths.profile.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(
            f"no broker profile in {paths.profile.parent}: run `gridgate-hub broker config` first"
        ) from None
    try:
        return BrokerProfile.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise ProfileError(f"{paths.profile}: {exc}") from None
