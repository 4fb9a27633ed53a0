"""Encryption at rest of face encodings (AES-256-GCM, key derived from the hub's secret).

Each encoding is sealed with a fresh 96-bit nonce and the resident id as associated data,
so a row copied onto another resident fails to open.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.config import HubSettings

DIMENSIONS = 128
NONCE_BYTES = 12


class VaultError(ValueError):
    """A sealed encoding that does not open (wrong key, tampered, or moved)."""


class FaceVault:
    """Seals and opens 128-d encodings."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the face key secret must be at least 16 bytes")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"gridgate face vault v1"
        ).derive(secret)
        self._aead = AESGCM(key)

    @classmethod
    def for_hub(cls, settings: HubSettings) -> FaceVault:
        """The vault of a hub: its key derives from the hub's ``secret_key``."""
        return cls(settings.secret_key.get_secret_value().encode())

    def seal(self, resident_id: str, encoding: npt.ArrayLike) -> bytes:
        """Encrypt one encoding for ``resident_id``."""
        vector = np.asarray(encoding, dtype="<f4").reshape(DIMENSIONS)
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, vector.tobytes(), resident_id.encode())

    def open(self, resident_id: str, sealed: bytes) -> npt.NDArray[np.float32]:
        """Decrypt one encoding; :class:`VaultError` if it is not ``resident_id``'s."""
        try:
            plain = self._aead.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], resident_id.encode()
            )
        except (InvalidTag, ValueError):
            raise VaultError(f"the face encoding of {resident_id} does not open") from None
        return np.frombuffer(plain, dtype="<f4").astype(np.float32)
