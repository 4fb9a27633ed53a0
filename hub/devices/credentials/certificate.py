"""Client-certificate credential: a certificate from the hub's CA, common name = device id."""

from __future__ import annotations

from hub.devices.credentials.base import (
    BundleFile,
    IssuedCredential,
    credential_methods,
)
from hub.devices.pki import CertificateAuthority

CERT_FILE = "client.cert.pem"
KEY_FILE = "client.key.pem"


@credential_methods.register("certificate")
class CertificateMethod:
    """The broker takes the certificate's common name as the user name; no password."""

    name = "certificate"
    mutual_tls = True

    def issue(self, device_id: str, ca: CertificateAuthority) -> IssuedCredential:
        """The hub keeps the serial and fingerprint; the key goes to the bundle only."""
        issued = ca.issue_client(device_id)
        return IssuedCredential(
            cert_serial=issued.serial_hex,
            cert_fingerprint=issued.fingerprint_hex,
            mqtt_files={
                "tls_cert_file": BundleFile(CERT_FILE, issued.cert_pem),
                "tls_key_file": BundleFile(KEY_FILE, issued.key_pem, secret=True),
            },
        )
