"""OpenCV backend (``cv2.QRCodeDetector``): no extra dependency, kept for comparison."""

from __future__ import annotations

import cv2
import numpy as np

from edge.decoders.qr.base import QrSymbol, as_gray, qr_backends


@qr_backends.register("opencv")
class OpenCvDecoder:
    """QR codes via ``cv2.QRCodeDetector.detectAndDecodeMulti``."""

    name = "opencv"

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetector()

    def decode(self, gray: np.ndarray) -> list[QrSymbol]:
        """Every QR code OpenCV detects and decodes in ``gray`` (empty strings dropped)."""
        try:
            found, texts, points, _ = self._detector.detectAndDecodeMulti(as_gray(gray))
        except cv2.error:  # raised by some degenerate detections; nothing readable then
            return []
        if not found or points is None:
            return []
        symbols = []
        for text, quad in zip(texts, points, strict=False):
            if text:
                corners = tuple((float(x), float(y)) for x, y in quad.reshape(-1, 2))
                symbols.append(QrSymbol(text, text.encode("utf-8"), corners, self.name))
        return symbols
