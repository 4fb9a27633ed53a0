"""Mosquitto password-file hashes: PBKDF2-SHA512 in the ``$7$`` form ``mosquitto_passwd`` writes.

A line of a Mosquitto 2 password file is ``user:$7$<iterations>$<salt b64>$<hash b64>``
(12-byte salt, 64-byte SHA-512 derived key, standard base64 with padding). The hub writes
these itself, so no ``mosquitto_passwd`` binary is needed where the hub runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "$7$"
ITERATIONS = 101
"""mosquitto_passwd's default. Broker passwords are 256-bit random tokens, never chosen by
people, so key stretching would only slow every connect without making a guess likelier."""
SALT_BYTES = 12
KEY_BYTES = 64


class PasswordHashError(ValueError):
    """A string that is not a Mosquitto ``$7$`` hash."""


def new_password() -> str:
    """A random broker password (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The ``$7$`` hash of ``password`` for a Mosquitto password file."""
    if iterations < 1:
        raise ValueError("iterations must be positive")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, KEY_BYTES)
    return f"{PREFIX}{iterations}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (ours or ``mosquitto_passwd``'s)."""
    iterations, salt, key = _parse(hashed)
    candidate = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, len(key))
    return hmac.compare_digest(candidate, key)


def _parse(hashed: str) -> tuple[int, bytes, bytes]:
    if not hashed.startswith(PREFIX):
        raise PasswordHashError(f"not a mosquitto $7$ hash: {hashed[:10]!r}...")
    parts = hashed[len(PREFIX) :].split("$")
    if len(parts) != 3 or not parts[0].isdigit() or int(parts[0]) < 1:
        raise PasswordHashError("a $7$ hash is $7$<iterations>$<salt>$<hash>")
    try:
        salt = base64.b64decode(parts[1], validate=True)
        key = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        raise PasswordHashError("the salt and hash of a $7$ hash must be base64") from None
    if not salt or not key:
        raise PasswordHashError("empty salt or hash in a $7$ hash")
    return int(parts[0]), salt, key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
