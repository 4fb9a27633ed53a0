"""A cheap motion gate: run face detection only when the frame changed since it last ran.

Frames are compared with a *reference*, the last frame the detector looked at, not with the
previous frame: a person who steps in on a frame the detector skips (``detect_every``) is
still "changed" on the next one, and slow movement adds up until it counts.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.decoders.faces.base import Image


class MotionGate:
    """Compares a tiny grey thumbnail of each frame with the reference thumbnail."""

    def __init__(self, threshold: float = 0.01, pixel_delta: int = 18, size: int = 64) -> None:
        self.threshold = threshold
        self.pixel_delta = pixel_delta
        self.size = size
        self._reference: Image | None = None
        self._current: Image | None = None

    def thumbnail(self, frame: Image) -> Image:
        """The grey thumbnail ``size`` pixels wide of a BGR or already grey frame."""
        height, width = frame.shape[:2]
        thumb_h = max(1, round(self.size * height / max(width, 1)))
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        thumb: Image = cv2.resize(grey, (self.size, thumb_h), interpolation=cv2.INTER_AREA)
        return thumb

    def changed(self, frame: Image) -> bool:
        """True when more than ``threshold`` of the thumbnail's pixels differ from the
        reference (always before the first :meth:`settle`). ``frame``: BGR or grey."""
        thumb = self._current = self.thumbnail(frame)
        reference = self._reference
        if reference is None or reference.shape != thumb.shape:
            return True
        moved = np.count_nonzero(cv2.absdiff(thumb, reference) > self.pixel_delta)
        return bool(moved > self.threshold * thumb.size)

    def settle(self) -> None:
        """Make the frame last passed to :meth:`changed` the reference (detection saw it)."""
        self._reference = self._current
