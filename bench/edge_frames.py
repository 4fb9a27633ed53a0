"""QR decoding on generated camera frames: zxing-cpp vs pyzbar vs OpenCV, same frames.

Prints ms/frame (median, p95), the decode rate, false reads, the cost of a frame without a
code, and ratios against zxing-cpp measured in the same process. Frames come from
``tests/support/frames.py`` (deterministic). Run: ``python bench/edge_frames.py``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from edge.decoders.qr import QrDecoder, as_gray, available, create
from tests.support.frames import HD, VGA, FrameCase, Size, empty_frame, frame_suite

BASELINE = "zxing"
BACKENDS = ("zxing", "pyzbar", "opencv")


@dataclass
class Result:
    """Per-backend measurements on one suite."""

    ms: list[float] = field(default_factory=list)
    empty_ms: list[float] = field(default_factory=list)
    readable: int = 0
    decoded: int = 0
    false_reads: int = 0
    by_group: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def _decode(decoder: QrDecoder, gray: np.ndarray) -> tuple[float, list[str | None]]:
    start = time.perf_counter()
    symbols = decoder.decode(gray)
    return (time.perf_counter() - start) * 1000, [s.text for s in symbols]


def run_suite(
    decoders: dict[str, QrDecoder], cases: Sequence[FrameCase], empties: Sequence[np.ndarray]
) -> dict[str, Result]:
    """Every backend on every frame, interleaved per frame (fair under thermal drift)."""
    results = {name: Result() for name in decoders}
    grays = [as_gray(case.image) for case in cases]
    for decoder in decoders.values():  # warm-up: allocations, lazy init
        decoder.decode(grays[0])
    for case, gray in zip(cases, grays, strict=True):
        for name, decoder in decoders.items():
            ms, texts = _decode(decoder, gray)
            result = results[name]
            result.ms.append(ms)
            group = result.by_group[case.group]
            if case.expected is None:
                result.false_reads += bool(texts)
                group[0] += not texts
            else:
                result.readable += 1
                hit = case.expected in texts
                result.decoded += hit
                group[0] += hit
            group[1] += 1
    for gray in empties:
        for name, decoder in decoders.items():
            results[name].empty_ms.append(_decode(decoder, gray)[0])
    return results


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def summary_table(title: str, results: dict[str, Result], frames: int) -> Table:
    """ms/frame, decode rate and ratios against the baseline."""
    table = Table(title=title)
    table.add_column("backend", no_wrap=True)
    for column in ("median ms", "p95 ms", "decoded", "false", "empty ms", "×zxing", "×empty"):
        table.add_column(column, justify="right", no_wrap=True)
    base = results.get(BASELINE)
    for name, r in results.items():
        median, empty = statistics.median(r.ms), statistics.median(r.empty_ms)
        ratio = empty_ratio = "—"
        if base is not None and name != BASELINE:
            ratio = f"{median / statistics.median(base.ms):.1f}"
            empty_ratio = f"{empty / statistics.median(base.empty_ms):.1f}"
        table.add_row(
            name,
            f"{median:.2f}",
            f"{_p95(r.ms):.2f}",
            f"{r.decoded}/{r.readable} {100 * r.decoded / max(r.readable, 1):.0f}%",
            str(r.false_reads),
            f"{empty:.2f}",
            ratio,
            empty_ratio,
        )
    table.caption = (
        f"{frames} frames; false = text read where there is none; empty = frame without a code"
    )
    return table


def group_table(title: str, results: dict[str, Result]) -> Table:
    """Correct outcomes per variation group (unreadable/empty: correctly nothing)."""
    table = Table(title=title)
    table.add_column("group")
    for name in results:
        table.add_column(name, justify="right")
    groups = next(iter(results.values())).by_group
    for group in groups:
        row = [f"{r.by_group[group][0]}/{r.by_group[group][1]}" for r in results.values()]
        table.add_row(group, *row)
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hd-every", type=int, default=3, help="use every Nth 1280x720 case")
    parser.add_argument("--empties", type=int, default=8, help="frames without a code")
    args = parser.parse_args(argv)

    console = Console() if sys.stdout.isatty() else Console(width=100)  # logs: no truncation
    names = [n for n in BACKENDS if n in available()]
    missing = sorted(set(BACKENDS) - set(names))
    decoders: dict[str, QrDecoder] = {n: create(n, bounded=False) for n in names}
    decoders[f"{BASELINE}+bound"] = create(BASELINE)
    console.print(
        f"[bold]QR decoding[/] on {platform.machine()} / Python {platform.python_version()}"
        + (f" — unavailable: {', '.join(missing)}" if missing else "")
    )
    started = time.perf_counter()
    size: Size
    for size, every in ((VGA, 1), (HD, args.hd_every)):
        cases = list(frame_suite(size=size, seed=args.seed, step=every))
        empties = [empty_frame(size=size, seed=args.seed + 50 + k) for k in range(args.empties)]
        results = run_suite(decoders, cases, [as_gray(e) for e in empties])
        label = f"{size[0]}x{size[1]}"
        console.print(summary_table(f"QR decode, {label}", results, len(cases)))
        console.print(group_table(f"Correct per group, {label}", results))
    for decoder in decoders.values():
        close = getattr(decoder, "close", None)
        if callable(close):
            close()
    console.print(f"total {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
