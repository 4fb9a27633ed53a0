"""A cheap motion gate: run face detection only when the frame changed."""

from __future__ import annotations

import cv2
import numpy as np

from edge.decoders.faces.base import Image


class MotionGate:
    """Compares a tiny grey thumbnail of each frame with the previous one."""

    def __init__(self, threshold: float = 0.01, pixel_delta: int = 18, size: int = 64) -> None:
        self.threshold = threshold
        self.pixel_delta = pixel_delta
        self.size = size
        self._previous: Image | None = None

    def changed(self, frame_bgr: Image) -> bool:
        """True when more than ``threshold`` of the thumbnail's pixels moved."""
        height, width = frame_bgr.shape[:2]
        thumb_h = max(1, round(self.size * height / max(width, 1)))
        grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        thumb = cv2.resize(grey, (self.size, thumb_h), interpolation=cv2.INTER_AREA)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            return True
        moved = np.count_nonzero(cv2.absdiff(thumb, previous) > self.pixel_delta)
        return bool(moved > self.threshold * thumb.size)
