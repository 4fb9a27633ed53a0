"""ECDSA P-256 key files: private keys owner-readable only, public keys in PEM beside them."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from models.keys import KeyFileError, load_public, public_pem

__all__ = ["KeyFileError", "generate", "load_private", "load_public", "public_pem"]


def private_path(directory: Path, kid: str) -> Path:
    """Where the private key of ``kid`` lives."""
    return directory / f"{kid}.key.pem"


def public_path(directory: Path, kid: str) -> Path:
    """Where the public key of ``kid`` lives."""
    return directory / f"{kid}.pub.pem"


def generate(directory: Path, kid: str, *, overwrite: bool = False) -> ec.EllipticCurvePrivateKey:
    """Create a key pair for ``kid`` in ``directory`` (refuses to overwrite by default)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = private_path(directory, kid)
    if target.exists() and not overwrite:
        raise KeyFileError(f"{target} exists; pass overwrite to replace it")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path(directory, kid).write_text(public_pem(key.public_key()), encoding="ascii")
    return key


def load_private(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read an unencrypted P-256 private key."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyFileError(f"{path}: not an ECDSA P-256 private key")
    return key
