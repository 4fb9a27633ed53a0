"""Render gate scenes: a face photo and the QR codes a person holds up, on a textured wall."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import segno

Frame = npt.NDArray[Any]
WIDTH, HEIGHT = 640, 480


def qr_image(text: str, module_px: int = 3, border: int = 4) -> Frame:
    """A grey QR image of ``text`` with a quiet zone, ``module_px`` pixels per module."""
    code = segno.make_qr(text, error="m")
    modules = np.array([[0 if dark else 255 for dark in row] for row in code.matrix], np.uint8)
    modules = np.pad(modules, border, constant_values=255)
    return np.kron(modules, np.ones((module_px, module_px), np.uint8))


def background(seed: int = 0) -> Frame:
    """A wall with a gradient and noise, so the frame is not trivially empty."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(70, 150, WIDTH, dtype=np.float32)
    wall = np.tile(ramp, (HEIGHT, 1))
    wall += rng.normal(0, 6, (HEIGHT, WIDTH)).astype(np.float32)
    grey = np.clip(wall, 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


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
    """What the camera sees while one person stands at the gate."""

    face: Path | None = None
    codes: list[str] = field(default_factory=list)
    seed: int = 0


def render(scene: Scene, jitter: int = 0) -> Frame:
    """One frame of ``scene``; ``jitter`` shifts the person a little between frames."""
    frame = background(scene.seed)
    if scene.face is not None:
        crop = face_crop(scene.face)
        y, x = 60 + jitter % 5, 60 + 2 * (jitter % 7)
        frame[y : y + crop.shape[0], x : x + crop.shape[1]] = crop
    x = 340
    y = 40
    for text in scene.codes:
        qr = cv2.cvtColor(qr_image(text), cv2.COLOR_GRAY2BGR)
        h, w = qr.shape[:2]
        if y + h > HEIGHT or x + w > WIDTH:
            scale = min((HEIGHT - y) / h, (WIDTH - x) / w)
            qr = cv2.resize(qr, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
            h, w = qr.shape[:2]
        frame[y : y + h, x : x + w] = qr
        y += h + 10
    return frame
