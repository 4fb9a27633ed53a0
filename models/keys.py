"""Public-key files both sides read: the hub's signing key pinned on edges, issuer keys."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


class KeyFileError(ValueError):
    """A key file that is missing or not an ECDSA P-256 key."""


def public_pem(key: ec.EllipticCurvePublicKey) -> str:
    """PEM text of a public key."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def parse_public_pem(pem: bytes, source: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM; :class:`KeyFileError` naming ``source`` otherwise."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise KeyFileError(f"{source}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KeyFileError(f"{source}: not an ECDSA P-256 public key")
    return key


def load_public(path: Path) -> ec.EllipticCurvePublicKey:
    """Read a P-256 public key (PEM)."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    return parse_public_pem(pem, str(path))
