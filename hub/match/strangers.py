"""Stable references for people not in the ledger, so their alerts repeat instead of multiply.

An unknown face is compared with the strangers seen recently; within the known-threshold it
is the same stranger (same reference, so the same active alert counts a repeat). The index is
a bounded ring in memory: after a restart, or once ``capacity`` newer strangers were seen, a
stranger gets a new reference.

A face sent without its encoding (the site keeps face data on the device) is one stranger
per device face track instead: the track's reference is kept while the track was seen within
``track_memory_s`` (one person lingering at the gate through several passages), and a track
number seen again after that (an edge restart numbers its tracks from 1 again) is someone new.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from models.face_match import FaceThresholds

DIMENSIONS = 128
TRACK_MEMORY_S = 120.0
"""A face track keeps its stranger reference while it was last seen at most this long ago."""


class StrangerIndex:
    """The most recent ``capacity`` strangers' encodings, searched in one vector operation."""

    def __init__(
        self,
        thresholds: FaceThresholds,
        capacity: int = 10_000,
        worker: str | None = None,
        track_memory_s: float = TRACK_MEMORY_S,
    ) -> None:
        self.thresholds = thresholds
        self.capacity = capacity
        self.track_memory_s = track_memory_s
        self._tracks: OrderedDict[tuple[str, str, int], tuple[str, datetime]] = OrderedDict()
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

    def track_reference(
        self, site_id: str, device_id: str, track_id: int, seen_at: datetime
    ) -> str:
        """The stranger reference of a device's face track seen at ``seen_at``."""
        key = (site_id, device_id, track_id)
        with self._lock:
            known = self._tracks.pop(key, None)
            if known is not None and abs(seen_at - known[1]).total_seconds() <= self.track_memory_s:
                ref, last = known[0], max(known[1], seen_at)
            else:
                ref, last = self._new_ref(site_id), seen_at
            self._tracks[key] = (ref, last)
            while len(self._tracks) > self.capacity:
                self._tracks.popitem(last=False)
        return ref

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
        ref = self._new_ref(site_id)
        slot = self._next
        self._matrix[slot] = probe
        self._norms[slot] = probe @ probe
        if slot < len(self._refs):
            self._refs[slot] = ref
        else:
            self._refs.append(ref)
        self._next = (slot + 1) % self.capacity
        return slot

    def _new_ref(self, site_id: str) -> str:
        self._counter += 1
        return f"stranger:{site_id}:{self._worker}-{self._counter}"
