"""The face backend protocol and its registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.registry import Registry

Image = npt.NDArray[Any]
"""A BGR or RGB uint8 frame as OpenCV returns it."""
Point = tuple[int, int]


@dataclass(frozen=True)
class Box:
    """A face box in pixel coordinates of the full frame."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        """Box width in pixels."""
        return max(0, self.right - self.left)

    @property
    def height(self) -> int:
        """Box height in pixels."""
        return max(0, self.bottom - self.top)

    @property
    def area(self) -> int:
        """Box area in pixels."""
        return self.width * self.height

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other``."""
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.bottom, other.bottom) - max(self.top, other.top)
        if width <= 0 or height <= 0:
            return 0.0
        inter = width * height
        return inter / float(self.area + other.area - inter)

    def scaled(self, factor: float) -> Box:
        """The box with every coordinate multiplied by ``factor``."""
        return Box(
            round(self.top * factor),
            round(self.right * factor),
            round(self.bottom * factor),
            round(self.left * factor),
        )


@dataclass(frozen=True)
class Landmarks:
    """The facial points the quality score and the blink hint use."""

    left_eye: list[Point]
    right_eye: list[Point]
    nose_tip: list[Point]


class FaceBackend(Protocol):
    """Detects, locates landmarks of, and encodes faces in RGB images."""

    name: str

    def detect(self, rgb: Image, upsample: int) -> list[Box]:
        """Face boxes in ``rgb``."""
        ...

    def landmarks(self, rgb: Image, boxes: list[Box]) -> list[Landmarks]:
        """Landmarks of each box, in the same order."""
        ...

    def encode(self, rgb: Image, box: Box) -> npt.NDArray[np.float64]:
        """The 128-d encoding of the face in ``box`` (the expensive step: ~100 ms)."""
        ...


face_backends: Registry[FaceBackend] = Registry("face")
BACKEND_MODULES = ("edge.decoders.faces.dlib", "edge.decoders.faces.fake")
