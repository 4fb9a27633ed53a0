"""``gridgate-edge scan``: run the frame pipeline over an image, a folder or a video, offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from edge.capture import CaptureConfig, EndOfSource, SourceError, open_source
from edge.capture.sources import IMAGE_EXTENSIONS
from edge.pipeline import FramePipeline
from models.base import utc_now
from models.events import PassageEvent


class ScanError(ValueError):
    """The input cannot be read."""


def frames(path: Path) -> Iterator[np.ndarray]:
    """Every frame of an image, an image folder or a video file, in order."""
    if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
        image = cv2.imread(str(path))
        if image is None:
            raise ScanError(f"{path}: not a readable image")
        yield image
        return
    if not path.exists():
        raise ScanError(f"{path}: no such file or folder")
    source = open_source(CaptureConfig(source=str(path)))
    try:
        source.open()
    except SourceError as exc:
        raise ScanError(str(exc)) from None
    try:
        while True:
            try:
                image = source.read()
            except EndOfSource:
                return
            if image is None:
                return
            yield image
    finally:
        source.close()


def scan(path: Path, pipeline: FramePipeline, fps: float) -> Iterator[PassageEvent]:
    """Passage events found in ``path``, as if its frames arrived at ``fps``."""
    clock = 0.0
    for image in frames(path):
        event = pipeline.process(image, clock, utc_now())
        if event is not None:
            yield event
        clock += 1.0 / fps
    last = pipeline.tick(clock, force=True)
    if last is not None:
        yield last
