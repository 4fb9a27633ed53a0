"""Face gallery search at district scale: ms per probe, p50 / p99, and recall vs the full scan.

Galleries of 10k / 100k / 800k generated encodings shaped like dlib's (norm near 1, a
shared component, a decaying spectrum; two people ~1.0 apart). Probes are residents seen
again (0.2-0.55 from their enrolment, i.e. known or undecided) and strangers. Each size is
searched by the full scan and by the partitioned index; "default" marks the one
:class:`hub.match.faces.FaceIndex` uses at that size. Recall: probes whose nearest resident
is the full scan's (residents' probes); decisions: probes (all) whose known / undecided /
unknown decision agrees with the full scan's.

BLAS runs on ``--blas-threads`` threads (default 1, as the hub runs it: ``blas_threads``).

    python bench/face_match.py [--sizes 10000 100000 800000] [--probes 500] [--blas-threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from hub.match.faces import DIMENSIONS, PARTITION_ABOVE, FaceIndex
from models.face_match import Candidate, FaceThresholds, decide

Matrix = npt.NDArray[np.float32]
UNLIMITED = 10**12


class Faces:
    """A population of encodings: a shared mean plus a person's own part (norm ~0.7 each)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        mean = rng.normal(0, 1, DIMENSIONS)
        self.mean = (0.7 * mean / np.linalg.norm(mean)).astype(np.float32)
        spectrum = 1 / np.sqrt(1 + np.arange(DIMENSIONS) / 16)
        rotation, _ = np.linalg.qr(rng.normal(size=(DIMENSIONS, DIMENSIONS)))
        scale = 0.7 / np.sqrt((spectrum**2).sum())
        self.basis = (rotation * spectrum * scale).astype(np.float32)

    def people(self, n: int, rng: np.random.Generator) -> Matrix:
        """``n`` different people."""
        own = rng.normal(0, 1, (n, DIMENSIONS)).astype(np.float32) @ self.basis.T
        people: Matrix = (self.mean + own).astype(np.float32)
        return people


def seen_again(
    gallery: Matrix, n: int, rng: np.random.Generator
) -> tuple[Matrix, npt.NDArray[np.int64]]:
    """``n`` residents' faces 0.2-0.55 from their enrolment; (probes, their rows)."""
    rows = rng.integers(0, len(gallery), n)
    noise = rng.normal(0, 1, (n, DIMENSIONS))
    noise *= (rng.uniform(0.2, 0.55, n) / np.linalg.norm(noise, axis=1))[:, None]
    return (gallery[rows] + noise).astype(np.float32), rows


@dataclass
class Row:
    size: int
    method: str
    build_s: float
    p50_ms: float
    p99_ms: float
    recall: float
    decisions: float


def _search(index: FaceIndex, probes: Matrix) -> tuple[list[Candidate], list[float]]:
    for probe in probes[:20]:  # warm up
        index.nearest(probe)
    found, times = [], []
    for probe in probes:
        started = time.perf_counter()
        found.append(index.nearest(probe))
        times.append(time.perf_counter() - started)
    return found, times


def measure(size: int, n_probes: int, faces: Faces, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    gallery = faces.people(size, rng)
    refs = [f"r{i}" for i in range(size)]
    residents, _ = seen_again(gallery, n_probes * 4 // 5, rng)
    probes = np.vstack([residents, faces.people(n_probes - len(residents), rng)])
    thresholds = FaceThresholds()
    rows: list[Row] = []
    truth: list[Candidate] = []
    for method, limit in (("full scan", UNLIMITED), ("partitioned", 0)):
        index = FaceIndex(partition_above=limit)
        started = time.perf_counter()
        index.replace(refs, gallery)
        build = time.perf_counter() - started
        found, times = _search(index, probes)
        truth = truth or found
        same = sum(f.ref == t.ref for f, t in zip(found, truth[: len(residents)], strict=False))
        agree = sum(
            decide(f.distance, thresholds) is decide(t.distance, thresholds)
            for f, t in zip(found, truth, strict=True)
        )
        default = (limit == 0) == (size > PARTITION_ABOVE)
        p50, p99 = np.percentile(times, [50, 99]) * 1e3
        label = f"{method} (default)" if default else method
        rows.append(Row(size, label, build, p50, p99, same / len(residents), agree / len(probes)))
        del index
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 800_000])
    parser.add_argument("--probes", type=int, default=500, help="probes per size (4/5 residents)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--blas-threads", type=int, default=1, help="BLAS threads (the hub's blas_threads)"
    )
    args = parser.parse_args()
    threadpool_limits(limits=args.blas_threads, user_api="blas")
    console = Console()
    faces = Faces(args.seed)
    rows: list[Row] = []
    for size in args.sizes:
        console.print(f"{size:,} residents ...")
        rows += measure(size, args.probes, faces, args.seed + size)
    table = Table(
        title=f"face gallery search, {args.probes} probes per size"
        f" ({os.cpu_count()} cores, {args.blas_threads} BLAS threads)"
    )
    columns = ("residents", "method", "build s", "p50 ms", "p99 ms", "recall", "decisions")
    for column in columns:
        table.add_column(column, justify="left" if column == "method" else "right")
    for r in rows:
        table.add_row(
            f"{r.size:,}",
            r.method,
            f"{r.build_s:.1f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{r.recall:.1%}",
            f"{r.decisions:.1%}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
