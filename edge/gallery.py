"""The local gallery: a per-site whitelist of face encodings, cached on disk.

The hub exports it per site; the edge keeps the last one it received so the gate decides
offline. Encodings are biometric data: the cache file is written with owner-only access.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.face_match import Candidate, nearest


class Gallery:
    """Encodings with the resident reference of each row; thread-safe replacement."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: list[str] = []
        self._matrix: npt.NDArray[np.float64] = np.zeros((0, 128))
        self.version: str | None = None

    def __len__(self) -> int:
        return len(self._refs)

    def replace(self, refs: list[str], encodings: list[list[float]], version: str) -> None:
        """Swap in a new gallery atomically."""
        matrix = np.asarray(encodings, dtype=np.float64).reshape(len(refs), 128)
        with self._lock:
            self._refs, self._matrix, self.version = list(refs), matrix, version

    def refs(self) -> list[str]:
        """The resident references, in row order."""
        with self._lock:
            return list(self._refs)

    def encodings(self) -> list[list[float]]:
        """The encodings, in row order."""
        with self._lock:
            return [[float(v) for v in row] for row in self._matrix]

    def nearest(self, encoding: npt.NDArray[np.float64] | list[float]) -> Candidate:
        """The nearest entry (beyond-tolerance decisions are the caller's thresholds)."""
        with self._lock:
            refs, matrix = self._refs, self._matrix
        return nearest(encoding, matrix, refs)

    def save(self, path: Path) -> None:
        """Write the gallery to ``path`` (mode 0600), atomically."""
        with self._lock:
            payload = {
                "version": self.version,
                "refs": self._refs,
                "encodings": self._matrix.round(6).tolist(),
            }
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Gallery:
        """Read a cached gallery; an absent file gives an empty gallery."""
        gallery = cls()
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            gallery.replace(data["refs"], data["encodings"], data["version"])
        return gallery
