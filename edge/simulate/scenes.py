"""Render gate scenes: a face photo and the QR codes a person holds up, on a textured wall.

Frames are BGR ``uint8`` like a camera's, 640x480 unless ``size`` says otherwise; the
layout scales with the frame height, so a 1280x720 frame shows the same scene larger.

Example::

    scene = Scene(face=photos["obama.jpg"], codes=["GGDP1:310101001001", token])
    frames = [render(scene, jitter=i, size=HD, noise=2.0) for i in range(10)]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import segno

from edge.decoders.faces.base import Box
from edge.decoders.faces.fake import mark_face

Frame = npt.NDArray[Any]
Size = tuple[int, int]
"""(width, height) in pixels."""

WIDTH, HEIGHT = 640, 480
VGA: Size = (WIDTH, HEIGHT)
HD: Size = (1280, 720)


@lru_cache(maxsize=256)
def _symbol(text: str, error: str) -> npt.NDArray[np.bool_]:
    code = segno.make(text, error=error, micro=False)
    matrix = np.array([list(row) for row in code.matrix], dtype=bool)
    matrix.flags.writeable = False
    return matrix


def qr_modules(text: str, *, error: str = "m", border: int = 4) -> npt.NDArray[np.bool_]:
    """The QR symbol of ``text`` as a boolean matrix (True = dark), with a quiet zone."""
    return np.pad(_symbol(text, error), border, constant_values=False)


def qr_image(text: str, module_px: int = 3, border: int = 4) -> Frame:
    """A grey QR image of ``text`` with a quiet zone, ``module_px`` pixels per module."""
    modules = np.where(qr_modules(text, border=border), 0, 255).astype(np.uint8)
    return np.kron(modules, np.ones((module_px, module_px), np.uint8))


@lru_cache(maxsize=8)
def _wall(seed: int, size: Size) -> Frame:
    width, height = size
    rng = np.random.default_rng(seed)
    ramp = np.linspace(70, 150, width, dtype=np.float32)
    wall = np.tile(ramp, (height, 1))
    wall += rng.normal(0, 6, (height, width)).astype(np.float32)
    grey = np.clip(wall, 0, 255).astype(np.uint8)
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    bgr.flags.writeable = False
    return bgr


def background(seed: int = 0, size: Size = VGA) -> Frame:
    """A wall with a gradient and noise, so the frame is not trivially empty (a new copy)."""
    return _wall(seed, size).copy()


@lru_cache(maxsize=16)
def face_crop(photo: Path, size: int = 220) -> Frame:
    """The photo cropped around its face (found once with dlib) and scaled to ``size``."""
    from edge.decoders.faces.dlib import DlibFaceBackend

    image = cv2.imread(str(photo))
    if image is None:
        raise FileNotFoundError(photo)
    found = DlibFaceBackend().detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), upsample=0)
    height, width = image.shape[:2]
    if found:
        box = found[0]
        top, right, bottom, left = box.top, box.right, box.bottom, box.left
        margin = int(0.45 * (bottom - top))
        top, bottom = max(0, top - margin), min(height, bottom + margin)
        left, right = max(0, left - margin), min(width, right + margin)
        image = image[top:bottom, left:right]
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Scene:
    """What the camera sees while one person stands at the gate.

    ``face`` is a photo whose face is pasted in (``face_size`` pixels square at 480 lines);
    ``marker`` draws the fake face backend's marker for that person id instead, for tests
    without dlib; ``codes`` are the QR payloads the person holds up, top to bottom.
    """

    face: Path | None = None
    codes: list[str] = field(default_factory=list)
    seed: int = 0
    marker: int | None = None
    face_size: int = 220


def render(
    scene: Scene,
    jitter: int = 0,
    *,
    size: Size = VGA,
    noise: float = 0.0,
    noise_seed: int | None = None,
) -> Frame:
    """One frame of ``scene``; ``jitter`` shifts the person a little between frames.

    ``size`` is (width, height): the layout scales with the height. ``noise`` adds sensor
    noise of that sigma, different per frame (seeded by ``noise_seed``, else ``jitter``),
    so consecutive frames of a still scene differ the way a camera's do.
    """
    width, height = size
    k = height / HEIGHT
    frame = background(scene.seed, size)
    origin_y, origin_x = round(60 * k) + jitter % 5, round(60 * k) + 2 * (jitter % 7)
    side = round(scene.face_size * k)
    if scene.face is not None:
        crop = face_crop(scene.face, side)
        frame[origin_y : origin_y + side, origin_x : origin_x + side] = crop
    x, y = round(340 * k), round(40 * k)
    for text in scene.codes:
        qr = cv2.cvtColor(qr_image(text, module_px=max(3, round(3 * k))), cv2.COLOR_GRAY2BGR)
        h, w = qr.shape[:2]
        if y + h > height or x + w > width:
            scale = min((height - y) / h, (width - x) / w)
            qr = cv2.resize(qr, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
            h, w = qr.shape[:2]
        frame[y : y + h, x : x + w] = qr
        y += h + round(10 * k)
    if noise > 0:
        frame = _add_grain(frame, noise, jitter if noise_seed is None else noise_seed)
    if scene.marker is not None:  # after the noise: the fake backend looks for exact colours
        _mark(frame, origin_y, origin_x, side, scene.marker)
    return frame


GRAIN_MARGIN = 61
"""Frames take their sensor noise from one larger grain field at a per-frame offset."""


@lru_cache(maxsize=4)
def _grain(size: Size, sigma: float) -> npt.NDArray[np.int16]:
    width, height = size
    rng = np.random.default_rng(7)
    field_ = rng.normal(0.0, sigma, (height + GRAIN_MARGIN, width + GRAIN_MARGIN))
    luminance = np.rint(field_).astype(np.int16)
    grain = np.repeat(luminance[..., None], 3, axis=2)  # luminance noise, as after demosaicing
    grain.flags.writeable = False
    return grain


def _add_grain(frame: Frame, sigma: float, seed: int) -> Frame:
    """``frame`` with sensor noise: one of 3,721 patterns, chosen by ``seed``."""
    height, width = frame.shape[:2]
    dy, dx = (seed * 7919) % GRAIN_MARGIN, (seed * 104729 // GRAIN_MARGIN) % GRAIN_MARGIN
    grain = _grain((width, height), sigma)[dy : dy + height, dx : dx + width]
    noisy: Frame = cv2.add(frame, grain, dtype=cv2.CV_8U)
    return noisy


def _mark(frame: Frame, top: int, left: int, side: int, person: int) -> None:
    """The fake backend's face marker where a photo's face would be, on a dark figure (the
    marker's grey is close to the wall's: alone, the motion gate would hardly see it)."""
    frame[top : top + side, left : left + side] = 40  # dark hair and coat: a visible person
    inset = side // 4
    box = Box(top + inset, left + side - inset, top + side - inset, left + inset)
    mark_face(frame, box, person)
