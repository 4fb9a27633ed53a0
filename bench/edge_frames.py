"""Edge frame costs: QR backends compared, then the full per-frame pipeline.

1. QR decoding on generated camera frames: zxing-cpp vs pyzbar vs OpenCV, same frames.
   Prints ms/frame (median, p95), the decode rate, false reads, the cost of a frame
   without a code, and ratios against zxing-cpp measured in the same process. Frames come
   from ``tests/support/frames.py`` (deterministic). Ends with a verdict per frame size:
   is the default backend at least as fast and as robust (frames decoded) as every other?
2. The full pipeline (``edge.app.build_pipeline``: bounded zxing, payload routing, pass
   verification, the dlib face stage, passage assembly) on gate scenes from
   ``edge/simulate/scenes.py`` played as a camera sequence: people stand at the gate for a
   while (real face photos, a door plate and a signed pass), with empty frames between
   them. Prints ms/frame while someone is in view (median, p95, max), fps over the whole
   sequence, ratios against the empty scene in the same process, detector runs, faces
   encoded against people, and passages.

Run: ``python bench/edge_frames.py`` (under a minute; ``--quick``: a sample of the frames,
about half the time; ``--only pipeline`` or ``--only qr``; ``--detect-every`` and
``--detect-scale`` override the face stage's settings).
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from edge.app import build_pipeline
from edge.capture import CaptureConfig
from edge.config import EdgeConfig
from edge.decoders.faces.config import FaceConfig
from edge.decoders.qr import QrDecoder, as_gray, available, create, default_backend
from edge.gallery import Gallery
from edge.passage.config import PassageConfig
from edge.pipeline import FramePipeline
from edge.sample_photos import PhotosUnavailableError, face_photos
from edge.simulate.scenes import Frame, Scene, face_crop, render
from models.base import utc_now
from tests.support.frames import HD, VGA, FrameCase, Size, empty_frame, frame_suite
from tests.support.passes import Issuer, trust_store

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


def default_verdict(results: dict[str, Result], default: str, label: str) -> str:
    """Whether ``default`` is at least as fast (median ms) and decodes at least as many
    frames as every other backend measured, with the figures behind the answer."""
    own = results[default]
    others = {n: r for n, r in results.items() if n != default and not n.endswith("+bound")}
    faster = all(statistics.median(own.ms) <= statistics.median(r.ms) for r in others.values())
    robust = all(own.decoded >= r.decoded for r in others.values())
    figures = ", ".join(
        f"{name} {statistics.median(r.ms):.2f} ms {r.decoded}/{r.readable}"
        for name, r in [(default, own), *others.items()]
    )
    verdict = "yes" if faster and robust else "no"
    return (
        f"{label}: default QR backend ({default}) at least as fast and as robust as the "
        f"others: {verdict} ({figures})"
    )


# --- the full pipeline ----------------------------------------------------------------

CAMERA_FPS = 15.0
"""The simulated camera's frame rate: frame i is stamped i / CAMERA_FPS seconds."""
STAND_FRAMES = 24
"""Frames one person stands at the gate (1.6 s)."""
GAP_FRAMES = 36
"""Empty frames after each person (2.4 s): longer than the passage window."""
LEAD_FRAMES = 6
"""Empty frames before the first person."""
WINDOW_S = 2.0
NOISE = 2.0
"""Sensor noise sigma of every frame."""
PEOPLE = ("obama2.jpg", "biden.jpg", "obama3.jpg", "obama.jpg")
"""Who comes to the gate, in turn; the gallery holds obama.jpg as a resident."""
PIPELINE_SCENES = ("empty", "qr", "face", "both", "moving")
"""Who is in view: nobody; a person holding a door plate and a pass up (no face); a face;
both; both while the person keeps moving (the detector runs every ``detect_every``-th frame:
the face stage's worst case)."""
SIZES: tuple[Size, ...] = (VGA, HD)
TARGET_FPS = 15.0
TARGET_EMPTY_MS = 5.0


@dataclass
class Playback:
    """One scene kind played through a fresh pipeline."""

    scene: str
    size: Size
    ms: list[float] = field(default_factory=list)
    in_view_ms: list[float] = field(default_factory=list)
    people: int = 0
    detector_runs: int = 0
    encodings: int = 0
    passages: Counter[str] = field(default_factory=Counter)

    @property
    def fps(self) -> float:
        """Frames per second over the whole sequence (people and the gaps between them)."""
        return 1000 * len(self.ms) / sum(self.ms)

    @property
    def in_view_fps(self) -> float:
        """Frames per second while someone stands at the gate."""
        return 1000 * len(self.in_view_ms) / sum(self.in_view_ms)

    @property
    def typical_ms(self) -> list[float]:
        """In-view frames, or every frame of the empty scene."""
        return self.in_view_ms or self.ms


def gate_sequence(
    scene: str,
    size: Size,
    photos: Sequence[Path],
    codes: Sequence[str],
    people: int,
) -> Iterator[tuple[Frame, bool]]:
    """(frame, someone in view) of ``scene``, rendered lazily: a few empty frames, then each
    person followed by empty frames."""
    rendered = 0

    def frame(shown: Scene, jitter: int = 0) -> Frame:
        nonlocal rendered
        rendered += 1
        return render(shown, jitter, size=size, noise=NOISE, noise_seed=rendered)

    for _ in range(LEAD_FRAMES):
        yield frame(Scene()), False
    for person in range(people):
        face = photos[person % len(photos)] if scene in ("face", "both", "moving") else None
        shown = Scene(face=face, codes=list(codes) if scene in ("qr", "both", "moving") else [])
        for step in range(STAND_FRAMES):  # the person shifts a little every few frames
            jitter = 3 * step if scene == "moving" else step // 4
            yield frame(shown, jitter=jitter), scene != "empty"
        for _ in range(GAP_FRAMES):
            yield frame(Scene()), False


def _pipeline(gallery: Gallery, issuer: Issuer, faces: FaceConfig) -> FramePipeline:
    config = EdgeConfig(
        device_id="bench",
        site_id="bench",
        capture=CaptureConfig(source="bench"),
        faces=faces,
        passage=PassageConfig(window_s=WINDOW_S),
    )
    return build_pipeline(config, gallery, trust_store(issuer))


class Player:
    """Plays one scene through its own pipeline, a frame at a time, on the camera clock."""

    def __init__(
        self, scene: str, size: Size, pipeline: FramePipeline, frames: Iterator[tuple[Frame, bool]]
    ) -> None:
        self.pipeline = pipeline
        self.result = Playback(scene, size)
        self._frames = frames
        self._index = 0
        self._in_view = False

    def step(self) -> bool:
        """Process the next frame (only ``process()`` is timed); False when there is none."""
        item = next(self._frames, None)
        if item is None:
            return False
        image, in_view = item
        result = self.result
        now, captured_at = self._index / CAMERA_FPS, utc_now()
        self._index += 1
        start = time.perf_counter()
        event = self.pipeline.process(image, now, captured_at)
        ms = (time.perf_counter() - start) * 1000
        result.ms.append(ms)
        if in_view:
            result.in_view_ms.append(ms)
        result.people += in_view and not self._in_view
        self._in_view = in_view
        if event is not None:
            result.passages[event.decision.action] += 1
        return True

    def finish(self) -> Playback:
        """Close the last passage, collect the face stage's counters, stop the decoder."""
        result = self.result
        last = self.pipeline.tick(self._index / CAMERA_FPS + 3600, force=True)
        if last is not None:
            result.passages[last.decision.action] += 1
        if self.pipeline.faces is not None:
            stats = self.pipeline.faces.stats
            result.detector_runs = stats.frames - stats.still_frames
            result.encodings = stats.encodings
        close = getattr(self.pipeline.qr, "close", None)
        if callable(close):
            close()
        return result


def play_interleaved(players: Sequence[Player]) -> list[Playback]:
    """One frame of each player in turn, so drift (heat, other load) hits every scene alike."""
    running = list(players)
    while running:
        running = [player for player in running if player.step()]
    return [player.finish() for player in players]


def _resident_gallery(photo: Path) -> Gallery:
    from edge.decoders.faces.dlib import DlibFaceBackend

    backend = DlibFaceBackend()
    crop = face_crop(photo)
    rgb = np.ascontiguousarray(crop[:, :, ::-1])
    (box,) = backend.detect(rgb, upsample=1)
    gallery = Gallery()
    gallery.replace(["resident-obama"], [backend.encode(rgb, box).tolist()], "bench")
    return gallery


def run_pipeline(photos: dict[str, Path], people: int, faces: FaceConfig) -> list[Playback]:
    """Every scene kind at every size, each through its own pipeline, frames interleaved."""
    issuer = Issuer()
    codes = ["GGDP1:310101001001", issuer.issue()]
    gallery = _resident_gallery(photos["obama.jpg"])
    people_photos = [photos[name] for name in PEOPLE]
    results = []
    for size in SIZES:
        warm_frames = itertools.islice(gate_sequence("both", size, people_photos, codes, 1), 40)
        play_interleaved([Player("warm-up", size, _pipeline(gallery, issuer, faces), warm_frames)])
        players = [
            Player(
                scene,
                size,
                _pipeline(gallery, issuer, faces),
                gate_sequence(scene, size, people_photos, codes, people),
            )
            for scene in PIPELINE_SCENES
        ]
        results += play_interleaved(players)
    return results


def pipeline_table(results: Sequence[Playback], faces: FaceConfig) -> Table:
    """ms/frame while someone is in view, fps, ratios to the empty scene, face work."""
    table = Table(
        title=(
            f"Full pipeline (build_pipeline: zxing, dlib detect_scale {faces.detect_scale}, "
            f"upsample {faces.upsample}, detect_every {faces.detect_every})"
        )
    )
    table.add_column("size", no_wrap=True)
    table.add_column("scene", no_wrap=True)
    columns = (
        "frames",
        "median ms",
        "p95 ms",
        "max ms",
        "fps in view",
        "fps seq",
        "×empty",
        "detector runs",
        "encoded/people",
        "passages",
    )
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    empty = {r.size: statistics.median(r.ms) for r in results if r.scene == "empty"}
    for r in results:
        typical = r.typical_ms
        median = statistics.median(typical)
        ratio = "—" if r.scene == "empty" else f"{median / empty[r.size]:.1f}"
        in_view = f"{len(r.in_view_ms)}/{len(r.ms)}" if r.in_view_ms else str(len(r.ms))
        passages = " ".join(f"{action}:{n}" for action, n in sorted(r.passages.items()))
        table.add_row(
            f"{r.size[0]}x{r.size[1]}",
            r.scene,
            in_view,
            f"{median:.2f}",
            f"{_p95(typical):.2f}",
            f"{max(typical):.1f}",
            f"{r.in_view_fps:.0f}" if r.in_view_ms else f"{r.fps:.0f}",
            f"{r.fps:.0f}",
            ratio,
            str(r.detector_runs),
            f"{r.encodings}/{r.people}" if r.scene in ("face", "both", "moving") else "—",
            passages or "—",
        )
    table.caption = (
        "median/p95/max: frames with a person in view (empty: every frame); frames: in view/"
        f"all; camera clock {CAMERA_FPS:.0f} fps, {STAND_FRAMES} frames a person, "
        f"{GAP_FRAMES} empty frames between; ×empty: median against the empty scene"
    )
    return table


def check_targets(results: Sequence[Playback]) -> list[str]:
    """The targets at 640x480, each with its figure and verdict."""
    lines = []
    for r in results:
        if r.size != VGA:
            continue
        if r.scene == "empty":
            median = statistics.median(r.ms)
            verdict = "ok" if median < TARGET_EMPTY_MS else "MISSED"
            lines.append(f"empty frame {median:.2f} ms (target < {TARGET_EMPTY_MS:.0f}): {verdict}")
        else:
            verdict = "ok" if r.in_view_fps >= TARGET_FPS else "MISSED"
            lines.append(
                f"{r.scene}: {r.in_view_fps:.0f} fps in view, {r.fps:.0f} over the sequence "
                f"(target >= {TARGET_FPS:.0f}): {verdict}"
            )
    return lines


def run_qr(console: Console, args: argparse.Namespace) -> None:
    """The QR backend comparison at 640x480 and 1280x720."""
    names = [n for n in BACKENDS if n in available()]
    missing = sorted(set(BACKENDS) - set(names))
    decoders: dict[str, QrDecoder] = {n: create(n, bounded=False) for n in names}
    decoders[f"{BASELINE}+bound"] = create(BASELINE)
    default, verdicts = default_backend(), []
    console.print(
        "[bold]QR decoding[/]" + (f" — unavailable: {', '.join(missing)}" if missing else "")
    )
    size: Size
    for size, every in ((VGA, args.vga_every), (HD, args.hd_every)):
        cases = list(frame_suite(size=size, seed=args.seed, step=every))
        empties = [empty_frame(size=size, seed=args.seed + 50 + k) for k in range(args.empties)]
        results = run_suite(decoders, cases, [as_gray(e) for e in empties])
        label = f"{size[0]}x{size[1]}"
        console.print(summary_table(f"QR decode, {label}", results, len(cases)))
        console.print(group_table(f"Correct per group, {label}", results))
        if default in results and len(names) > 1:
            verdicts.append(default_verdict(results, default, label))
    for line in verdicts:
        console.print(f"  {line}")
    for decoder in decoders.values():
        close = getattr(decoder, "close", None)
        if callable(close):
            close()


def run_full_pipeline(console: Console, args: argparse.Namespace) -> None:
    """The full pipeline table and the targets."""
    try:
        photos = face_photos()
    except PhotosUnavailableError as exc:
        console.print(f"[yellow]full pipeline skipped: no face photos ({exc})[/]")
        return
    overrides = {"detect_every": args.detect_every, "detect_scale": args.detect_scale}
    faces = FaceConfig(backend="dlib", **{k: v for k, v in overrides.items() if v is not None})
    results = run_pipeline(photos, args.people, faces)
    console.print(pipeline_table(results, faces))
    for line in check_targets(results):
        console.print(f"  {line}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vga-every", type=int, default=1, help="use every Nth 640x480 case")
    parser.add_argument("--hd-every", type=int, default=3, help="use every Nth 1280x720 case")
    parser.add_argument("--empties", type=int, default=8, help="frames without a code")
    parser.add_argument("--people", type=int, default=4, help="people per pipeline scene")
    parser.add_argument("--only", choices=("qr", "pipeline"), help="run one part only")
    parser.add_argument("--detect-every", type=int, help="FaceConfig.detect_every")
    parser.add_argument("--detect-scale", type=float, help="FaceConfig.detect_scale")
    parser.add_argument("--quick", action="store_true", help="fewer frames: a sample of each part")
    args = parser.parse_args(argv)
    if args.quick:
        args.vga_every, args.hd_every, args.empties, args.people = 3, 6, 4, 2

    console = Console() if sys.stdout.isatty() else Console(width=160)  # logs: no truncation
    console.print(
        f"[bold]Edge frames[/] on {platform.machine()} / Python {platform.python_version()}"
    )
    started = time.perf_counter()
    if args.only in (None, "qr"):
        run_qr(console, args)
    if args.only in (None, "pipeline"):
        run_full_pipeline(console, args)
    console.print(f"total {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
