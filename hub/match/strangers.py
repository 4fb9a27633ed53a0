"""Stable references for people not in the ledger, so their alerts repeat instead of multiply.

An unknown face is compared with the strangers seen recently; within the known-threshold it
is the same stranger (same reference, so the same active alert counts a repeat). The index is
a bounded ring in memory: after a restart, or once ``capacity`` newer strangers were seen, a
stranger gets a new reference.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.face_match import FaceThresholds

DIMENSIONS = 128


class StrangerIndex:
    """The most recent ``capacity`` strangers' encodings, searched in one vector operation."""

    def __init__(
        self, thresholds: FaceThresholds, capacity: int = 10_000, worker: str | None = None
    ) -> None:
        self.thresholds = thresholds
        self.capacity = capacity
        self._lock = threading.Lock()
        self._matrix = np.zeros((capacity, DIMENSIONS), np.float32)
        self._norms = np.zeros(capacity, np.float32)
        self._refs: list[str] = []
        self._next = 0
        self._counter = 0
        # references must not collide between hub workers, each remembering its own strangers
        self._worker = worker or uuid.uuid4().hex[:8]

    def reference(self, encoding: npt.ArrayLike, site_id: str) -> str:
        """The stranger reference for ``encoding``: an earlier one if close enough, else new."""
        return self.references([encoding], [site_id])[0]

    def references(self, encodings: Sequence[npt.ArrayLike], site_ids: Sequence[str]) -> list[str]:
        """:meth:`reference` for each encoding in order (a later one may match an earlier one).

        The ring as it was is scored against every encoding in one matrix product; strangers
        added meanwhile are scored one by one, and the slots they overwrote drop out of the
        first scores.
        """
        probes = np.asarray(encodings, dtype=np.float32).reshape(len(site_ids), DIMENSIONS)
        refs: list[str] = []
        with self._lock:
            filled = len(self._refs)
            before = self._norms[:filled] - 2.0 * (probes @ self._matrix[:filled].T)
            added: dict[int, None] = {}  # slots written by this call, in order
            for i, (probe, site_id) in enumerate(zip(probes, site_ids, strict=True)):
                best = self._best(before[i], added, probe)
                if best is not None:
                    distance = float(np.sqrt(max(best[0] + float(probe @ probe), 0.0)))
                    if distance < self.thresholds.known_below:
                        refs.append(self._refs[best[1]])
                        continue
                slot = self._store(probe, site_id)
                if slot < filled:
                    before[i + 1 :, slot] = np.inf  # overwritten: no longer that stranger
                added[slot] = None
                refs.append(self._refs[slot])
        return refs

    def _best(
        self,
        before: npt.NDArray[np.float32],
        added: dict[int, None],
        probe: npt.NDArray[np.float32],
    ) -> tuple[float, int] | None:
        """The lowest score (squared distance less the probe's norm) and its slot."""
        best: tuple[float, int] | None = None
        if len(before):
            slot = int(np.argmin(before))
            best = (float(before[slot]), slot)
        if added:
            slots = np.fromiter(added, np.intp, len(added))
            fresh = self._norms[slots] - 2.0 * (self._matrix[slots] @ probe)
            j = int(np.argmin(fresh))
            if best is None or float(fresh[j]) < best[0]:
                best = (float(fresh[j]), int(slots[j]))
        return best

    def _store(self, probe: npt.NDArray[np.float32], site_id: str) -> int:
        """Remember a new stranger in the next slot of the ring; returns the slot."""
        self._counter += 1
        ref = f"stranger:{site_id}:{self._worker}-{self._counter}"
        slot = self._next
        self._matrix[slot] = probe
        self._norms[slot] = probe @ probe
        if slot < len(self._refs):
            self._refs[slot] = ref
        else:
            self._refs.append(ref)
        self._next = (slot + 1) % self.capacity
        return slot
