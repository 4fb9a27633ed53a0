"""A scripted face backend: reports faces where a test or a replay says they are.

It finds faces drawn by :func:`mark_face` (a solid square of a marker colour whose green
channel carries a person id), so pipeline tests run without dlib and in microseconds.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from edge.decoders.faces.base import Box, Image, Landmarks, face_backends

MARKER_RED = 250
MARKER_BLUE = 5


def mark_face(frame_bgr: Image, box: Box, person: int) -> None:
    """Draw a fake face for ``person`` (1..200) into a BGR frame."""
    color = (MARKER_BLUE, person, MARKER_RED)
    cv2.rectangle(frame_bgr, (box.left, box.top), (box.right, box.bottom), color, thickness=-1)


def fake_encoding(person: int) -> npt.NDArray[np.float64]:
    """The deterministic encoding of ``person``: far from every other person's."""
    rng = np.random.default_rng(person)
    vector = rng.normal(0.0, 0.1, 128)
    return np.asarray(vector, dtype=np.float64)


@face_backends.register("fake")
class FakeFaceBackend:
    """Finds marker squares; encodes them by the person id in the green channel."""

    name = "fake"

    def detect(self, rgb: Image, upsample: int) -> list[Box]:
        """Boxes of the marker squares (the frame is RGB here)."""
        mask = (rgb[:, :, 0] == MARKER_RED) & (rgb[:, :, 2] == MARKER_BLUE)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
        boxes = []
        for i in range(1, count):
            left, top, width, height, area = (int(v) for v in stats[i])
            if area >= 16:
                boxes.append(Box(top, left + width, top + height, left))
        return boxes

    def landmarks(self, rgb: Image, boxes: list[Box]) -> list[Landmarks]:
        """Symmetric points: a frontal face with open eyes."""
        result = []
        for b in boxes:
            cy, w, h = b.top + b.height // 3, b.width, b.height
            left = [(b.left + w // 4 + dx, cy + dy) for dx, dy in _EYE]
            right = [(b.left + 3 * w // 4 + dx, cy + dy) for dx, dy in _EYE]
            result.append(Landmarks(left, right, [(b.left + w // 2, b.top + 2 * h // 3)]))
        return result

    def encode(self, rgb: Image, box: Box) -> npt.NDArray[np.float64]:
        """The encoding of the person whose id the square carries."""
        person = int(rgb[box.top + box.height // 2, box.left + box.width // 2, 1])
        return fake_encoding(person)


_EYE = [(-6, 0), (-3, -3), (3, -3), (6, 0), (3, 3), (-3, 3)]
