"""Atomic file writes with explicit permissions (secrets owner-only, whatever the umask)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_MODE = 0o600
PUBLIC_MODE = 0o644


def write_file(path: Path, data: bytes | str, mode: int = PUBLIC_MODE) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename, with ``mode``.

    The temporary file is created with ``mode`` already, so a secret is never readable
    by others, not even for a moment; readers never see a half-written file.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(mode)  # the umask may have narrowed the mode given to open()
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_secret(path: Path, data: bytes | str) -> Path:
    """Write a private key or password file readable by its owner only (0600)."""
    return write_file(path, data, SECRET_MODE)
