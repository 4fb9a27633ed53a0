"""Nearest-resident search over the face gallery, vectorised with numpy.

Squared distances come from one matrix-vector product (``|g|² + |x|² - 2 g·x``) on float32
rows, so a district gallery of 800,000 residents is searched without a Python loop.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.face_match import Candidate

DIMENSIONS = 128


class FaceIndex:
    """Residents' encodings; rows can be added and the whole index replaced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: list[str] = []
        self._matrix = np.zeros((0, DIMENSIONS), np.float32)
        self._norms = np.zeros(0, np.float32)

    def __len__(self) -> int:
        return len(self._refs)

    def replace(self, refs: Sequence[str], encodings: npt.ArrayLike) -> None:
        """Swap in a whole gallery (one row per reference)."""
        matrix = np.ascontiguousarray(encodings, dtype=np.float32).reshape(len(refs), DIMENSIONS)
        norms = np.einsum("ij,ij->i", matrix, matrix)
        with self._lock:
            self._refs, self._matrix, self._norms = list(refs), matrix, norms

    def add(self, ref: str, encoding: npt.ArrayLike) -> None:
        """Append one resident's encoding."""
        row = np.asarray(encoding, dtype=np.float32).reshape(1, DIMENSIONS)
        with self._lock:
            self._refs = [*self._refs, ref]
            self._matrix = np.vstack([self._matrix, row])
            self._norms = np.append(self._norms, np.float32(row @ row.T))

    def nearest(self, encoding: npt.ArrayLike) -> Candidate:
        """The nearest resident and the Euclidean distance (``None`` for an empty index)."""
        with self._lock:
            refs, matrix, norms = self._refs, self._matrix, self._norms
        if not refs:
            return Candidate(None, None)
        probe = np.asarray(encoding, dtype=np.float32).reshape(DIMENSIONS)
        squared = norms - 2.0 * (matrix @ probe) + float(probe @ probe)
        index = int(np.argmin(squared))
        return Candidate(refs[index], float(np.sqrt(max(float(squared[index]), 0.0))))
