"""The QR decoder seam: one protocol, one result type, the backend registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from edge.registry import Registry

Point = tuple[float, float]


@dataclass(frozen=True)
class QrSymbol:
    """One decoded QR code: its text (None when not text), raw bytes and corner points.

    ``corners`` are (x, y) pixel positions, normally four (top-left, top-right,
    bottom-right, bottom-left of the symbol as the decoder reports them).
    """

    text: str | None
    raw: bytes
    corners: tuple[Point, ...] = ()
    backend: str = ""

    @property
    def payload(self) -> str | bytes:
        """The text when there is one, else the raw bytes (what payload routing takes)."""
        return self.text if self.text is not None else self.raw


@runtime_checkable
class QrDecoder(Protocol):
    """Finds and decodes QR codes in a grayscale ``uint8`` image."""

    name: str

    def decode(self, gray: np.ndarray) -> list[QrSymbol]:
        """Every QR code found; [] when none (never raises for an unreadable image)."""
        ...


qr_backends: Registry[QrDecoder] = Registry("QR")
"""QR backends by name; each backend module registers itself on import."""


def as_gray(image: np.ndarray) -> np.ndarray:
    """A contiguous 2-D ``uint8`` view of ``image`` (BGR/BGRA converted, gray kept)."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    elif image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D or 3-D image, got shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def text_of(raw: bytes) -> str | None:
    """``raw`` as UTF-8 text, or None when it is not valid UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
