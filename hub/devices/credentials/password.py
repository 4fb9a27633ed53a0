"""Password credential: a random password, its ``$7$`` hash in the broker's password file."""

from __future__ import annotations

from hub.devices.credentials.base import IssuedCredential, credential_methods
from hub.devices.passwords import hash_password, new_password
from hub.devices.pki import CertificateAuthority


@credential_methods.register("password")
class PasswordMethod:
    """User name = device id, a 256-bit random password; TLS verifies the broker."""

    name = "password"
    mutual_tls = False

    def issue(self, device_id: str, ca: CertificateAuthority) -> IssuedCredential:
        """Only the hash is kept by the hub; the password itself goes to the bundle."""
        password = new_password()
        return IssuedCredential(
            password_hash=hash_password(password),
            mqtt={"username": device_id, "password": password},
        )
