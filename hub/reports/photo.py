"""An uploaded health-code photo: size-bounded, decoded with the edge's QR decoders.

Only the code's format is kept (e.g. ``gghc1``), never the photo or the code text.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from edge.decoders.payloads import HealthCode, PayloadClassifier
from edge.decoders.qr import registry as qr_registry
from edge.decoders.qr.base import QrDecoder

MAX_PHOTO_BYTES = 4 * 1024 * 1024
MAX_PIXELS = 24_000_000


class PhotoError(ValueError):
    """A photo that cannot be used; ``key`` is the form's message id."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class HealthCodeReader:
    """Finds the health code in a photo (the best QR backend of this machine)."""

    def __init__(self, decoder: QrDecoder | None = None) -> None:
        self.decoder = decoder or qr_registry.create(qr_registry.available()[0])
        self.classifier = PayloadClassifier()

    def read(self, data: bytes) -> str:
        """The format of the health code in ``data``, or :class:`PhotoError`."""
        if len(data) > MAX_PHOTO_BYTES:
            raise PhotoError("photo_too_large")
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError("photo_too_large")
        except (UnidentifiedImageError, OSError):
            raise PhotoError("photo_unreadable") from None
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise PhotoError("photo_unreadable")
        for symbol in self.decoder.decode(image):
            found = self.classifier.classify(symbol.payload)
            if isinstance(found, HealthCode):
                return str(found.format)
        raise PhotoError("photo_no_code")
