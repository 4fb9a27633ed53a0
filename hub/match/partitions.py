"""Coarse partitions of a large face gallery (an inverted file), so a probe scans a few cells.

k-means splits the rows into about √n cells around centres. A probe is compared with every
centre and only the rows of the ``probes`` nearest cells are scored, with the same float32
``|g|² - 2 g·x`` as the full scan; :class:`hub.match.faces.FaceIndex` re-ranks the best few
exactly. At 800,000 rows this scans about 6% of the gallery; the recall against the
full scan is measured by ``bench/face_match.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Rows = npt.NDArray[np.intp]

TRAIN_ROWS_PER_CELL = 64
"""k-means trains on at most this many sampled rows per cell."""
TRAIN_ITERATIONS = 8
ASSIGN_CHUNK = 65_536
"""Rows assigned to their cell per matrix product (bounds the temporary memory)."""
PROBED_SHARE = 0.06
"""Share of the cells a probe scans (at least ``MIN_PROBES``)."""
MIN_PROBES = 16


def _squared_to_centres(rows: Matrix, centres: Matrix, centre_norms: Matrix) -> Matrix:
    """Squared distance of each row to each centre, less the row's own norm (same argmin)."""
    scores: Matrix = centre_norms - 2.0 * (rows @ centres.T)
    return scores


def _assign(rows: Matrix, centres: Matrix) -> Rows:
    centre_norms = np.einsum("ij,ij->i", centres, centres)
    cells = [
        np.argmin(_squared_to_centres(rows[i : i + ASSIGN_CHUNK], centres, centre_norms), axis=1)
        for i in range(0, len(rows), ASSIGN_CHUNK)
    ]
    return np.concatenate(cells) if cells else np.zeros(0, np.intp)


def _train(matrix: Matrix, cells: int, rng: np.random.Generator) -> Matrix:
    """k-means centres from a sample of the rows (an empty cell keeps its previous centre)."""
    sample_size = min(len(matrix), cells * TRAIN_ROWS_PER_CELL)
    sample = matrix[np.sort(rng.choice(len(matrix), sample_size, replace=False))]
    centres: Matrix = sample[rng.choice(sample_size, cells, replace=False)].copy()
    for _ in range(TRAIN_ITERATIONS):
        labels = _assign(sample, centres)
        counts = np.bincount(labels, minlength=cells)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, sample)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


@dataclass(frozen=True)
class Partitions:
    """Cell centres and, per cell, a contiguous span of the gallery's (reordered) rows."""

    centres: Matrix
    centre_norms: Matrix
    bounds: Rows
    """Cell ``c`` holds rows ``bounds[c]:bounds[c + 1]``."""
    probes: int

    @classmethod
    def build(cls, matrix: Matrix, seed: int = 0) -> tuple[Partitions, Rows]:
        """Partition ``matrix``; returns the partitions and the row order they expect.

        The caller reorders its rows (and their references) by the returned order, so that
        each cell is one contiguous span. The same rows and seed give the same partitions.
        """
        cells = max(1, min(len(matrix), round(math.sqrt(len(matrix)))))
        centres = _train(matrix, cells, np.random.default_rng(seed))
        labels = _assign(matrix, centres)
        order: Rows = np.argsort(labels, kind="stable")
        bounds: Rows = np.zeros(cells + 1, np.intp)
        np.cumsum(np.bincount(labels, minlength=cells), out=bounds[1:])
        probes = min(cells, max(MIN_PROBES, math.ceil(cells * PROBED_SHARE)))
        norms = np.einsum("ij,ij->i", centres, centres)
        return cls(centres, norms, bounds, probes), order

    def spans(self, probe: Matrix) -> list[tuple[int, int]]:
        """The row spans of the cells nearest ``probe`` (empty cells left out)."""
        scores = self.centre_norms - 2.0 * (self.centres @ probe)
        if self.probes < len(scores):
            nearest = np.argpartition(scores, self.probes - 1)[: self.probes]
        else:
            nearest = np.arange(len(scores))
        bounds = self.bounds
        return [
            (int(bounds[c]), int(bounds[c + 1]))
            for c in np.sort(nearest)
            if bounds[c] < bounds[c + 1]
        ]
