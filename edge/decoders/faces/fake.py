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


def mark_face(frame_bgr: Image, box: Box, person: int, *, eyes_closed: bool = False) -> None:
    """Draw a fake face for ``person`` (1..200) into a BGR frame.

    ``eyes_closed`` darkens a patch around each eye, which :meth:`FakeFaceBackend.landmarks`
    reads as closed eyes (a blink is open frames, closed ones, open ones again).
    """
    color = (MARKER_BLUE, person, MARKER_RED)
    cv2.rectangle(frame_bgr, (box.left, box.top), (box.right, box.bottom), color, thickness=-1)
    if eyes_closed:
        half = max(2, box.width // 12)
        for x, y in _eye_centres(box):
            cv2.rectangle(frame_bgr, (x - half, y - half), (x + half, y + half), (0, 0, 0), -1)


def _eye_centres(box: Box) -> tuple[tuple[int, int], tuple[int, int]]:
    eye_y = box.top + box.height // 3
    return (box.left + box.width // 4, eye_y), (box.left + 3 * box.width // 4, eye_y)


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
        """Symmetric points: a frontal face, eyes closed where :func:`mark_face` darkened them."""
        height, width = rgb.shape[:2]
        result = []
        for b in boxes:
            eyes = []
            for x, y in _eye_centres(b):
                inside = 0 <= y < height and 0 <= x < width
                shape = _CLOSED_EYE if inside and rgb[y, x, 0] < MARKER_RED // 2 else _EYE
                eyes.append([(x + dx, y + dy) for dx, dy in shape])
            nose = [(b.left + b.width // 2, b.top + 2 * b.height // 3)]
            result.append(Landmarks(eyes[0], eyes[1], nose))
        return result

    def encode(self, rgb: Image, box: Box) -> npt.NDArray[np.float64]:
        """The encoding of the person whose id the square carries."""
        person = int(rgb[box.top + box.height // 2, box.left + box.width // 2, 1])
        return fake_encoding(person)


_EYE = [(-6, 0), (-3, -3), (3, -3), (6, 0), (3, 3), (-3, 3)]
"""An open eye's six points (eye aspect ratio 0.5)."""
_CLOSED_EYE = [(-6, 0), (-3, 0), (3, 0), (6, 0), (3, 0), (-3, 0)]
"""A closed eye's (eye aspect ratio 0)."""
