"""The edge config bundle: a directory ``gridgate-edge`` runs from as is.

It holds ``edge.yaml`` (device and site ids, broker host and port, the credential), the
hub CA certificate, the client certificate and key when the device uses one, and the hub's
trust-list key when given. Paths inside ``edge.yaml`` point where the directory will be
installed on the device (``--install-dir``, default ``/etc/gridgate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from edge.config import EdgeConfig
from hub.devices.credentials import IssuedCredential
from hub.devices.files import write_file, write_secret
from hub.devices.profile import BrokerProfile
from models.keys import KeyFileError, load_public, public_pem

EDGE_CONFIG = "edge.yaml"
CA_FILE = "ca.cert.pem"
HUB_KEY_FILE = "hub.pub.pem"
DEFAULT_INSTALL_DIR = Path("/etc/gridgate")


class BundleError(ValueError):
    """The bundle cannot be written (target not empty, no listener, bad key file)."""


def edge_document(
    device_id: str,
    site_id: str,
    credential: IssuedCredential,
    port: int,
    host: str,
    install_dir: Path,
    *,
    with_hub_key: bool,
    hub_url: str | None = None,
) -> dict[str, Any]:
    """The edge.yaml content, validated as an :class:`EdgeConfig`."""
    mqtt: dict[str, Any] = {
        "host": host,
        "port": port,
        "tls_ca_file": str(install_dir / CA_FILE),
        **credential.mqtt,
    }
    for field, file in credential.mqtt_files.items():
        mqtt[field] = str(install_dir / file.name)
    document: dict[str, Any] = {
        "device_id": device_id,
        "site_id": site_id,
        "capture": {"source": 0},
        "mqtt": mqtt,
    }
    if with_hub_key:
        document["codes"] = {"hub_public_key": str(install_dir / HUB_KEY_FILE)}
    if hub_url is not None:
        if "password" not in credential.mqtt:
            raise BundleError(
                "gallery sync logs in with the broker password: use a password device"
            )
        gallery: dict[str, Any] = {"hub_url": hub_url}
        if hub_url.startswith("https://"):
            gallery["ca_file"] = str(install_dir / CA_FILE)  # the hub's API certificate, same CA
        document["gallery"] = gallery
    try:
        EdgeConfig.model_validate(document)
    except ValidationError as exc:  # a bug here, not the operator's input
        raise BundleError(f"the generated edge config is invalid: {exc}") from None
    return document


def write_bundle(
    out: Path,
    *,
    device_id: str,
    site_id: str,
    credential: IssuedCredential,
    mutual_tls: bool,
    profile: BrokerProfile,
    ca_cert_pem: bytes,
    install_dir: Path | None = None,
    hub_public_key: Path | None = None,
    hub_url: str | None = None,
) -> Path:
    """Write the bundle into ``out`` (mode 0700, created; must be empty); its edge.yaml path.

    ``install_dir`` None: the paths in edge.yaml point into ``out`` itself.
    """
    port = profile.cert_port if mutual_tls else profile.tls_port
    if port is None:
        listener = "client-certificate" if mutual_tls else "TLS (password)"
        raise BundleError(f"the broker profile has no {listener} listener for this device")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"{out} exists and is not an empty directory")
    hub_key_pem = _hub_key(hub_public_key) if hub_public_key is not None else None
    target = install_dir if install_dir is not None else out.resolve()
    document = edge_document(
        device_id,
        site_id,
        credential,
        port,
        profile.hosts[0],
        target,
        with_hub_key=hub_key_pem is not None,
        hub_url=hub_url,
    )
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.chmod(0o700)
    write_file(out / CA_FILE, ca_cert_pem)
    for file in credential.mqtt_files.values():
        (write_secret if file.secret else write_file)(out / file.name, file.data)
    if hub_key_pem is not None:
        write_file(out / HUB_KEY_FILE, hub_key_pem)
    header = (
        f"# gridgate edge agent {device_id} (site {site_id}), from `gridgate-hub devices add`.\n"
        f"# Install this directory as {target}; set capture.source to the camera.\n"
        "# It holds the device's broker credential: keep it owner-readable only.\n"
    )
    config = out / EDGE_CONFIG
    write_secret(config, header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return config


def _hub_key(path: Path) -> str:
    try:
        return public_pem(load_public(path))
    except KeyFileError as exc:
        raise BundleError(f"hub public key: {exc}") from None
