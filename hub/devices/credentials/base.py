"""The credential-method protocol, what a method issues, and the registry of methods."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from edge.registry import BackendUnavailableError, Registry
from hub.devices.pki import CertificateAuthority

METHOD_MODULES = (
    "hub.devices.credentials.password",
    "hub.devices.credentials.certificate",
)


@dataclass(frozen=True)
class BundleFile:
    """A file for the device's bundle, named relative to the bundle."""

    name: str
    data: bytes
    secret: bool = False
    """Written owner-readable only (0600)."""


@dataclass(frozen=True)
class IssuedCredential:
    """What one method issued for one device: the registry's part and the device's part."""

    password_hash: str | None = None
    """Mosquitto ``$7$`` hash for the password file (the plain password goes to the bundle)."""
    cert_serial: str | None = None
    cert_fingerprint: str | None = None
    mqtt: dict[str, str] = field(default_factory=dict)
    """Edge ``MqttConfig`` values, e.g. ``username`` and ``password``."""
    mqtt_files: dict[str, BundleFile] = field(default_factory=dict)
    """Edge ``MqttConfig`` path fields and the bundle files they point at."""


class CredentialMethod(Protocol):
    """Issues a device's broker credential."""

    name: str
    mutual_tls: bool
    """The device connects to the client-certificate listener (else the TLS one)."""

    def issue(self, device_id: str, ca: CertificateAuthority) -> IssuedCredential:
        """A new credential for ``device_id``."""
        ...


credential_methods: Registry[CredentialMethod] = Registry("device credential")


def method(name: str) -> CredentialMethod:
    """The registered method ``name`` (``password`` or ``certificate``)."""
    credential_methods.load(METHOD_MODULES)
    factories = credential_methods.factories()
    if name not in factories:
        raise BackendUnavailableError(f"no credential method {name!r}: {sorted(factories)}")
    return factories[name]()
