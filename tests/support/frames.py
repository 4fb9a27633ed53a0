"""Real test frames: QR codes rendered into textured camera-like backgrounds.

Symbols come from segno through :func:`edge.simulate.scenes.qr_modules`.

Everything is deterministic for a given seed. Frames are BGR ``uint8`` arrays, like a
camera's; :func:`frame_suite` yields labelled cases with the text a decoder should read.

Example::

    image = qr_frame("GGDP1:310101001001", module=5, rotation=30, blur=1.0, seed=7)
    for case in frame_suite(size=HD, groups=["blur", "empty"]):
        check(decoder.decode(case.image), case.expected)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from edge.simulate.scenes import HD, VGA, Size, qr_modules

__all__ = ["HD", "VGA", "FrameCase", "Size", "empty_frame", "frame_suite", "qr_frame", "qr_modules"]

SAMPLE_TEXTS: tuple[str, ...] = (
    "GGDP1:310101001001",
    "https://plates.example.org/a/310115-0042-0301",
    "GGHC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B3KL6QM5/OVGA/MAT%ZSRAVQ",
    "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IDNA9F1S6XF1SUZK80JPTGNX9AJ0:IR*B/1",
    "shc:/56762909524320603460292437404460312229595326546034602925407728043360287028647167",
    "door 17-3-1201",
)
"""Payloads of realistic lengths and kinds (door plates, health-code prefixes, other)."""


@dataclass(frozen=True)
class FrameCase:
    """One generated frame and what a decoder should read from it (None: nothing)."""

    label: str
    group: str
    image: np.ndarray = field(repr=False)
    expected: str | None
    params: dict[str, Any] = field(default_factory=dict)


def _background(rng: np.random.Generator, size: Size) -> np.ndarray:
    """A cluttered, unevenly lit scene (float32 BGR, 0..255)."""
    width, height = size
    cells = (height // 48 + 2, width // 48 + 2)
    coarse = rng.uniform(70, 190, (*cells, 1)) + rng.uniform(-25, 25, (*cells, 3))
    scene: np.ndarray = cv2.resize(
        coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR
    )
    for _ in range(int(rng.integers(6, 14))):  # furniture, doors, signs
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, width // 3)), y0 + int(rng.integers(20, height // 3))
        colour = tuple(float(c) for c in rng.uniform(30, 230, 3))
        cv2.rectangle(scene, (x0, y0), (x1, y1), colour, thickness=int(rng.choice([-1, 2, 4])))
    for _ in range(int(rng.integers(4, 10))):  # edges and cables
        p0 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        shade = tuple(float(c) for c in rng.uniform(20, 240, 3))
        cv2.line(scene, p0, p1, shade, thickness=int(rng.integers(1, 4)))
    grain = rng.normal(0, 10, (height // 4 + 1, width // 4 + 1, 1)).astype(np.float32)
    texture: np.ndarray = cv2.resize(grain, (width, height), interpolation=cv2.INTER_LINEAR)
    scene += texture[..., None]
    ramp = np.linspace(rng.uniform(0.75, 0.95), rng.uniform(1.0, 1.15), width, dtype=np.float32)
    lit: np.ndarray = np.clip(scene * ramp[None, :, None], 0, 255)
    return lit


def _finish(scene: np.ndarray, rng: np.random.Generator, blur: float, noise: float) -> np.ndarray:
    """Optics blur, then sensor noise, then 8-bit quantisation."""
    if blur > 0:
        scene = cv2.GaussianBlur(scene, (0, 0), sigmaX=blur)
    if noise > 0:  # luminance noise, as a sensor's after demosaicing mostly is
        scene = scene + rng.standard_normal((*scene.shape[:2], 1), dtype=np.float32) * noise
    out: np.ndarray = np.clip(scene, 0, 255).astype(np.uint8)
    return out


def _quad(
    side: float, module: int, rotation: float, perspective: float, rng: np.random.Generator
) -> np.ndarray:
    """Corners (tl, tr, br, bl) of the code around the origin: keystone tilt, then rotation."""
    half = side / 2
    corners = np.array([[-half, -half], [half, -half], [half, half], [-half, half]], np.float32)
    if perspective > 0:
        edge = int(rng.integers(0, 4))  # which edge is farther from the camera
        a, b = edge, (edge + 1) % 4
        shrink = perspective * side / 2
        for i, j in ((a, b), (b, a)):
            direction = corners[j] - corners[i]
            corners[i] += direction / np.linalg.norm(direction) * shrink
    angle = np.deg2rad(rotation)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    rotated: np.ndarray = corners @ turn.T
    return rotated


def qr_frame(
    text: str,
    *,
    size: Size = VGA,
    module: int = 4,
    rotation: float = 0.0,
    blur: float = 0.0,
    perspective: float = 0.0,
    contrast: float = 1.0,
    noise: float = 4.0,
    occlusion: float = 0.0,
    error: str = "m",
    center: tuple[float, float] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """A BGR frame with one QR code of ``text`` on a textured background.

    ``module`` is the module size in pixels before warping, ``rotation`` degrees
    (clockwise in image coordinates), ``blur`` a Gaussian sigma in pixels, ``perspective``
    the keystone strength 0..0.5 (fraction of the far edge lost), ``contrast`` 0..1 the
    dark/light spread of the printed plate, ``noise`` the sensor noise sigma,
    ``occlusion`` the fraction of the plate (from its right edge) covered by a hand. Raises
    ``ValueError`` when the code does not fit the frame.
    """
    if not 0 < contrast <= 1 or not 0 <= perspective < 0.5 or module < 1:
        raise ValueError("need 0 < contrast <= 1, 0 <= perspective < 0.5, module >= 1")
    rng = np.random.default_rng(seed)
    width, height = size
    matrix = qr_modules(text, error=error)
    dark, light = 128 - 110 * contrast, 128 + 110 * contrast
    plate = np.where(matrix, dark, light).astype(np.float32)
    plate = np.kron(plate, np.ones((module, module), np.float32))
    if occlusion > 0:
        plate[:, plate.shape[1] - round(occlusion * plate.shape[1]) :] = 60.0
    side = float(plate.shape[0])
    quad = _quad(side, module, rotation, perspective, rng)
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    margin = 4.0
    if (hi - lo)[0] + 2 * margin > width or (hi - lo)[1] + 2 * margin > height:
        raise ValueError(f"a {side:.0f}px code does not fit a {width}x{height} frame")
    if center is None:
        cx = rng.uniform(margin - lo[0], width - margin - hi[0])
        cy = rng.uniform(margin - lo[1], height - margin - hi[1])
    else:
        cx, cy = center
    dst = (quad + np.array([cx, cy], np.float32)).astype(np.float32)
    x0, y0 = (int(v) for v in np.floor(dst.min(axis=0)))
    x1, y1 = (int(v) + 2 for v in np.ceil(dst.max(axis=0)))
    src = np.array([[0, 0], [side, 0], [side, side], [0, side]], np.float32)
    warp = cv2.getPerspectiveTransform(src, dst - np.array([x0, y0], np.float32))
    roi = (x1 - x0, y1 - y0)
    code = cv2.warpPerspective(plate, warp, roi, flags=cv2.INTER_AREA)[..., None]
    mask = cv2.warpPerspective(np.ones_like(plate), warp, roi, flags=cv2.INTER_LINEAR)[..., None]
    scene = _background(rng, size)
    tint = rng.uniform(0.92, 1.0, 3).astype(np.float32)  # paper is never quite white
    window = scene[y0:y1, x0:x1]
    window[...] = window * (1 - mask) + code * tint * mask
    return _finish(scene, rng, blur, noise)


def empty_frame(
    *, size: Size = VGA, noise: float = 4.0, blur: float = 0.0, seed: int = 0
) -> np.ndarray:
    """A textured BGR frame without any code."""
    rng = np.random.default_rng(seed)
    return _finish(_background(rng, size), rng, blur, noise)


def _variations(seed: int) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(group, label, qr_frame kwargs) of the standard suite; ``text`` is included."""
    texts = SAMPLE_TEXTS
    short = (texts[0], texts[1], texts[5])
    for i, text in enumerate(texts):
        yield "clean", f"clean-{i}", {"text": text, "module": 4}
    for module in (3, 4, 5, 6, 8, 10):
        for j, text in enumerate(short[:2]):
            yield "size", f"module{module}-{j}", {"text": text, "module": module}
    for k, angle in enumerate((10, 25, 45, 60, 90, 120, 160, 180, 215, 270, 300, 340)):
        yield "rotation", f"rot{angle}", {"text": texts[k % 3], "module": 5, "rotation": angle}
    for k, tilt in enumerate((0.05, 0.1, 0.15, 0.2, 0.25, 0.3)):
        for j in range(2):
            kw = {"text": texts[(k + j) % 4], "module": 5, "perspective": tilt}
            yield "perspective", f"tilt{tilt}-{j}", kw | {"rotation": 20.0 * j}
    for k, sigma in enumerate((0.6, 1.0, 1.4, 1.8, 2.2, 2.6)):
        for j in range(2):
            kw = {"text": texts[(k + j) % 3], "module": 5 + j, "blur": sigma}
            yield "blur", f"blur{sigma}-{j}", kw
    for k, spread in enumerate((0.6, 0.45, 0.3, 0.2, 0.15, 0.1)):
        for j in range(2):
            kw = {"text": texts[(k + j) % 3], "module": 5, "contrast": spread, "noise": 3.0}
            yield "contrast", f"contrast{spread}-{j}", kw
    for sigma in (10.0, 16.0, 24.0):
        for j in range(2):
            yield "noise", f"noise{sigma:.0f}-{j}", {"text": short[j], "module": 5, "noise": sigma}
    rng = np.random.default_rng(seed)
    for k in range(40):
        kw = {
            "text": texts[k % len(texts)],
            "module": int(rng.integers(3, 8)),
            "rotation": float(rng.uniform(0, 360)),
            "perspective": float(rng.uniform(0, 0.25)),
            "blur": float(rng.uniform(0, 1.8)),
            "contrast": float(rng.uniform(0.25, 1.0)),
        }
        yield "mixed", f"mixed-{k}", kw
    yield "unreadable", "blur-smear", {"text": texts[2], "module": 3, "blur": 6.0}
    yield "unreadable", "covered", {"text": texts[3], "module": 4, "occlusion": 0.5}
    yield "unreadable", "flat", {"text": texts[1], "module": 4, "contrast": 0.02}


def frame_suite(
    *,
    size: Size = VGA,
    seed: int = 0,
    groups: Sequence[str] | None = None,
    empties: int = 6,
    step: int = 1,
) -> Iterator[FrameCase]:
    """The standard labelled suite (121 cases), optionally limited to ``groups``.

    Groups: clean, size, rotation, perspective, blur, contrast, noise, mixed, unreadable
    (``expected`` None) and empty (no code, ``expected`` None). ``step`` keeps every
    step-th case (a quicker sample with the same spread). Module sizes scale with ``size``
    (from 640x480); frames smaller than that may not fit every case (``ValueError``).
    """
    scale = min(size[0] / VGA[0], size[1] / VGA[1])
    for n, (group, label, kwargs) in enumerate(_variations(seed)):
        if (groups is not None and group not in groups) or n % step:
            continue
        params = dict(kwargs)
        text = params.pop("text")
        if group != "unreadable":
            params["module"] = max(1, round(params["module"] * scale))
        image = qr_frame(text, size=size, seed=seed * 1000 + n, **params)
        expected = None if group == "unreadable" else text
        yield FrameCase(label, group, image, expected, params)
    if groups is None or "empty" in groups:
        for k in range(0, empties, step):
            params = {"blur": 0.8 * (k % 3)}
            image = empty_frame(size=size, seed=seed * 1000 + 900 + k, **params)
            yield FrameCase(f"empty-{k}", "empty", image, None, params)
