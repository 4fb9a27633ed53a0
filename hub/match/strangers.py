"""Stable references for people not in the ledger, so their alerts repeat instead of multiply.

An unknown face is compared with the strangers seen recently; within the known-threshold it
is the same stranger (same reference, so the same active alert counts a repeat). The index is
a bounded ring in memory: after a restart, or once ``capacity`` newer strangers were seen, a
stranger gets a new reference.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from models.face_match import FaceThresholds

DIMENSIONS = 128


class StrangerIndex:
    """The most recent ``capacity`` strangers' encodings, searched in one vector operation."""

    def __init__(self, thresholds: FaceThresholds, capacity: int = 10_000) -> None:
        self.thresholds = thresholds
        self.capacity = capacity
        self._lock = threading.Lock()
        self._matrix = np.zeros((capacity, DIMENSIONS), np.float32)
        self._norms = np.zeros(capacity, np.float32)
        self._refs: list[str] = []
        self._next = 0
        self._counter = 0

    def reference(self, encoding: npt.ArrayLike, site_id: str) -> str:
        """The stranger reference for ``encoding``: an earlier one if close enough, else new."""
        probe = np.asarray(encoding, dtype=np.float32).reshape(DIMENSIONS)
        with self._lock:
            filled = len(self._refs)
            if filled:
                squared = self._norms[:filled] - 2.0 * (self._matrix[:filled] @ probe)
                best = int(np.argmin(squared))
                distance = float(np.sqrt(max(float(squared[best] + probe @ probe), 0.0)))
                if distance < self.thresholds.known_below:
                    return self._refs[best]
            self._counter += 1
            ref = f"stranger:{site_id}:{self._counter}"
            slot = self._next
            self._matrix[slot] = probe
            self._norms[slot] = probe @ probe
            if slot < filled:
                self._refs[slot] = ref
            else:
                self._refs.append(ref)
            self._next = (slot + 1) % self.capacity
            return ref
