"""How a device proves who it is to the broker: one module per method, registered by name."""

from hub.devices.credentials.base import (
    BundleFile,
    CredentialMethod,
    IssuedCredential,
    credential_methods,
    method,
)

__all__ = ["BundleFile", "CredentialMethod", "IssuedCredential", "credential_methods", "method"]
