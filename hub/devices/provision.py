"""Provisioning steps behind the CLI: configure the broker, add and revoke devices.

Every change ends the same way: the broker directory is rewritten from the registry (the
single source of truth) and the broker, when its pid file is known, gets SIGHUP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.devices.broker_files import Reload, reload_broker, write_broker_files
from hub.devices.bundle import write_bundle
from hub.devices.credentials import method
from hub.devices.mosquitto_conf import BrokerFiles
from hub.devices.pki import CertificateAuthority
from hub.devices.profile import BrokerProfile, HubPaths, load_profile, save_profile
from hub.devices.registry import (
    DeviceError,
    DeviceKind,
    RegisteredDevice,
    add_device,
    check_id,
    list_devices,
    revoke_device,
)
from hub.store.db import Store


@dataclass(frozen=True)
class BrokerUpdate:
    """The rewritten broker directory and the reload outcome."""

    files: BrokerFiles
    reload: Reload


@dataclass(frozen=True)
class Provisioned:
    """A new device, where its bundle went, and the broker update."""

    device: RegisteredDevice
    edge_config: Path
    broker: BrokerUpdate


@dataclass(frozen=True)
class Revoked:
    """A revoked device and the broker update (None when no broker is configured yet)."""

    device: RegisteredDevice
    broker: BrokerUpdate | None


def configure_broker(store: Store, paths: HubPaths, profile: BrokerProfile) -> BrokerUpdate:
    """Save ``profile``, create the CA and hub password if needed, write and reload."""
    save_profile(paths, profile)
    return _update_broker(store, paths, profile)


def provision_device(
    store: Store,
    paths: HubPaths,
    *,
    device_id: str,
    site_id: str,
    kind: DeviceKind,
    method_name: str,
    out: Path,
    now: datetime,
    install_dir: Path | None = None,
    hub_public_key: Path | None = None,
    hub_url: str | None = None,
) -> Provisioned:
    """Register a device, write its bundle, then update the broker."""
    profile = load_profile(paths)
    check_id(device_id, "device id")
    check_id(site_id, "site id")
    if device_id == profile.hub_username:
        raise DeviceError(f"{device_id!r} is the hub's broker user; choose another device id")
    ca = CertificateAuthority.load_or_create(paths.pki_dir)
    credential_method = method(method_name)
    credential = credential_method.issue(device_id, ca)
    with store.transaction() as session:
        device = add_device(session, device_id, site_id, kind, credential, now)
        # Written inside the transaction: a bundle that cannot be written registers nothing.
        edge_config = write_bundle(
            out,
            device_id=device_id,
            site_id=site_id,
            credential=credential,
            mutual_tls=credential_method.mutual_tls,
            profile=profile,
            ca_cert_pem=ca.cert_pem,
            install_dir=install_dir,
            hub_public_key=hub_public_key,
            hub_url=hub_url,
        )
    return Provisioned(device, edge_config, _update_broker(store, paths, profile))


def revoke(store: Store, paths: HubPaths, device_id: str, now: datetime) -> Revoked:
    """Revoke a device, then update the broker if one is configured."""
    with store.transaction() as session:
        device = revoke_device(session, device_id, now)
    if not paths.profile.exists():
        return Revoked(device, None)
    return Revoked(device, _update_broker(store, paths, load_profile(paths)))


def _update_broker(store: Store, paths: HubPaths, profile: BrokerProfile) -> BrokerUpdate:
    ca = CertificateAuthority.load_or_create(paths.pki_dir)
    with store.transaction() as session:
        devices = list_devices(session)
    files = write_broker_files(profile, paths, ca, devices)
    return BrokerUpdate(files, reload_broker(profile))
