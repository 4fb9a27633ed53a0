"""Nearest-resident search over the face gallery, vectorised with numpy.

Scores come from one matrix product (``|g|² - 2 g·x``, all probes of a batch at once) on
float32 rows with their squared norms precomputed; the best few per probe are re-ranked by
their exact float64 distance. A
gallery above ``partition_above`` rows (a district: 800,000 residents) is split into
k-means cells (:mod:`hub.match.partitions`) and a probe scans only the cells nearest it.
Rows added one by one go to a small tail that is always scanned in full, and are merged
into the gallery once the tail grows past an eighth of it.

The distance returned is always the exact distance to the resident returned, so the
two-threshold decision never names anyone beyond tolerance; partitioning can only miss a
nearer resident (recall against the full scan: ``bench/face_match.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hub.match.partitions import Partitions
from models.face_match import Candidate

DIMENSIONS = 128
PARTITION_ABOVE = 100_000
"""Galleries larger than this are partitioned; smaller ones are scanned in full."""
RERANK = 4
"""Best scores per scanned part that are re-ranked by exact distance."""
TAIL_MIN = 1024
"""Rows added one by one are merged into the gallery past max(this, an eighth of it)."""

SCORES_PER_PRODUCT = 4_000_000
"""Probes are scored against a full-scan gallery in groups of at most this many scores."""

Matrix = npt.NDArray[np.float32]
Rows = npt.NDArray[np.intp]


@dataclass(frozen=True)
class _Part:
    """Rows searched one way: in full, or through partitions covering all its rows."""

    refs: list[str]
    matrix: Matrix
    norms: Matrix
    partitions: Partitions | None = None

    @classmethod
    def of(cls, refs: list[str], matrix: Matrix, partition_above: int) -> _Part:
        if len(refs) <= partition_above:
            return cls(refs, matrix, np.einsum("ij,ij->i", matrix, matrix))
        partitions, order = Partitions.build(matrix)
        ordered = np.ascontiguousarray(matrix[order])
        norms = np.einsum("ij,ij->i", ordered, ordered)
        return cls([refs[i] for i in order], ordered, norms, partitions)

    def best(self, probes: Matrix) -> Rows:
        """Per probe (row of ``probes``), the row numbers of its best few scores, ascending."""
        count = len(self.refs)
        if count == 0:
            return np.zeros((len(probes), 0), np.intp)
        if self.partitions is not None:
            return np.stack([self._best_partitioned(probe) for probe in probes])
        best = np.empty((len(probes), min(RERANK, count)), np.intp)
        step = max(1, SCORES_PER_PRODUCT // count)
        for start in range(0, len(probes), step):
            scores = self.norms - 2.0 * (probes[start : start + step] @ self.matrix.T)
            best[start : start + step] = _top(scores)
        return best

    def _best_partitioned(self, probe: Matrix) -> Rows:
        assert self.partitions is not None
        spans = self.partitions.spans(probe)
        rows = np.concatenate([np.arange(a, b) for a, b in spans])
        if len(rows) <= RERANK:  # a tiny gallery: all its rows (repeated to fill)
            return np.resize(rows if len(rows) else np.arange(len(self.refs)), RERANK)
        scores = np.concatenate(
            [self.norms[a:b] - 2.0 * (self.matrix[a:b] @ probe) for a, b in spans]
        )
        return np.sort(rows[np.argpartition(scores, RERANK - 1)[:RERANK]])


def _top(scores: Matrix) -> Rows:
    """Per row of ``scores``, the columns of its ``RERANK`` lowest, ascending."""
    if scores.shape[1] > RERANK:
        columns = np.argpartition(scores, RERANK - 1, axis=1)[:, :RERANK]
    else:
        columns = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    return np.sort(columns, axis=1)  # the first row wins a tie, as with a plain argmin


_EMPTY = _Part([], np.zeros((0, DIMENSIONS), np.float32), np.zeros(0, np.float32))


class FaceIndex:
    """Residents' encodings; rows can be added and the whole index replaced."""

    def __init__(self, partition_above: int = PARTITION_ABOVE) -> None:
        self.partition_above = partition_above
        self._lock = threading.Lock()  # guards the swap of (gallery, tail)
        self._writing = threading.Lock()  # one writer at a time; readers never wait on it
        self._gallery = _EMPTY
        self._tail = _EMPTY

    def __len__(self) -> int:
        with self._lock:
            return len(self._gallery.refs) + len(self._tail.refs)

    @property
    def partitioned(self) -> bool:
        """Whether the gallery is searched through partitions (it is above the size limit)."""
        return self._gallery.partitions is not None

    def replace(self, refs: Sequence[str], encodings: npt.ArrayLike) -> None:
        """Swap in a whole gallery (one row per reference)."""
        matrix = np.ascontiguousarray(encodings, dtype=np.float32).reshape(len(refs), DIMENSIONS)
        with self._writing:
            gallery = _Part.of(list(refs), matrix, self.partition_above)
            with self._lock:
                self._gallery, self._tail = gallery, _EMPTY

    def add(self, ref: str, encoding: npt.ArrayLike) -> None:
        """Append one resident's encoding."""
        row = np.asarray(encoding, dtype=np.float32).reshape(1, DIMENSIONS)
        with self._writing:
            gallery, tail = self._gallery, self._tail
            refs, matrix = [*tail.refs, ref], np.vstack([tail.matrix, row])
            if len(refs) < max(TAIL_MIN, len(gallery.refs) // 8):
                grown = _Part.of(refs, matrix, len(refs))
                with self._lock:
                    self._tail = grown
                return
            merged = _Part.of(
                gallery.refs + refs, np.vstack([gallery.matrix, matrix]), self.partition_above
            )
            with self._lock:
                self._gallery, self._tail = merged, _EMPTY

    def nearest(self, encoding: npt.ArrayLike) -> Candidate:
        """The nearest resident and the Euclidean distance (``None`` for an empty index)."""
        return self.nearest_many(np.asarray(encoding).reshape(1, DIMENSIONS))[0]

    def nearest_many(self, encodings: npt.ArrayLike) -> list[Candidate]:
        """:meth:`nearest` of each row of ``encodings`` (N x 128), scored together."""
        with self._lock:
            parts = (self._gallery, self._tail)
        probes = np.asarray(encodings, dtype=np.float32).reshape(-1, DIMENSIONS)
        exact = np.asarray(encodings, dtype=np.float64).reshape(-1, DIMENSIONS)
        found: list[Candidate] = [Candidate(None, None)] * len(probes)
        for part in parts:
            rows = part.best(probes)
            if rows.shape[1] == 0:
                continue
            distances = np.linalg.norm(part.matrix[rows] - exact[:, None, :], axis=2)
            picks = np.argmin(distances, axis=1)
            for i, pick in enumerate(picks.tolist()):
                distance, current = float(distances[i, pick]), found[i].distance
                if current is None or distance < current:
                    found[i] = Candidate(part.refs[int(rows[i, pick])], distance)
        return found
