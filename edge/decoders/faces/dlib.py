"""Face backend on face_recognition (dlib HOG detector, 68-point landmarks, ResNet encoder)."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

from edge.decoders.faces.base import Box, Image, Landmarks, face_backends

with warnings.catch_warnings():
    # face_recognition_models imports the deprecated pkg_resources (setuptools is pinned < 81).
    warnings.simplefilter("ignore", UserWarning)
    import face_recognition


@face_backends.register("dlib")
class DlibFaceBackend:
    """HOG detection and dlib encodings through face_recognition."""

    name = "dlib"

    def detect(self, rgb: Image, upsample: int) -> list[Box]:
        """Face boxes found by the HOG detector."""
        found = face_recognition.face_locations(rgb, number_of_times_to_upsample=upsample)
        return [Box(int(t), int(r), int(b), int(lf)) for t, r, b, lf in found]

    def landmarks(self, rgb: Image, boxes: list[Box]) -> list[Landmarks]:
        """68-point landmarks reduced to eyes and nose tip."""
        if not boxes:
            return []
        locations = [(b.top, b.right, b.bottom, b.left) for b in boxes]
        points = face_recognition.face_landmarks(rgb, locations, model="large")
        return [
            Landmarks(
                left_eye=list(p.get("left_eye", [])),
                right_eye=list(p.get("right_eye", [])),
                nose_tip=list(p.get("nose_tip", [])),
            )
            for p in points
        ]

    def encode(self, rgb: Image, box: Box) -> npt.NDArray[np.float64]:
        """The 128-d encoding of one face."""
        location = [(box.top, box.right, box.bottom, box.left)]
        encodings = face_recognition.face_encodings(rgb, location, num_jitters=1)
        return np.asarray(encodings[0], dtype=np.float64)
