"""An uploaded health-code photo: size-bounded, decoded with the edge's QR decoders.

Only the code's format and, when the reader has the hub's trust list, the verdict are kept
(``gridgate``: not verified; ``gridgate:valid``; ``gridgate:bad_signature``, ``…:expired``, …
the first reason code), never the photo or the code text. A forged or expired pass is thus
not recorded like a valid one.
"""

from __future__ import annotations

import io
from datetime import datetime

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from edge.decoders.payloads import HealthCode, PayloadClassifier
from edge.decoders.qr import registry as qr_registry
from edge.decoders.qr.base import QrDecoder
from edge.verify.trust import TrustStore
from hub.codes.verify import CodeChecker
from models.base import utc_now
from models.events import HealthCodeFormat, HealthCodeObservation, VerificationStatus

MAX_PHOTO_BYTES = 4 * 1024 * 1024
MAX_PIXELS = 24_000_000
RECORD_CHARS = 24
"""The report's column width: a format and a verdict must fit."""
VERIFIED_FORMATS = frozenset({HealthCodeFormat.GRIDGATE, HealthCodeFormat.EU_DCC})
"""Formats verified on upload (any verdict of theirs fits :data:`RECORD_CHARS`)."""


class PhotoError(ValueError):
    """A photo that cannot be used; ``key`` is the form's message id."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class HealthCodeReader:
    """Finds the health code in a photo (the best QR backend of this machine)."""

    def __init__(self, decoder: QrDecoder | None = None, trust: TrustStore | None = None) -> None:
        self.decoder = decoder or qr_registry.create(qr_registry.available()[0])
        self.classifier = PayloadClassifier()
        self.checker = CodeChecker(trust) if trust is not None else None

    def read(self, data: bytes, seen_at: datetime | None = None) -> str:
        """The format of the health code in ``data`` and its verdict, or :class:`PhotoError`."""
        found = self.code(data)
        verdict = None
        if self.checker is not None and found.format in VERIFIED_FORMATS:
            verdict = self.checker.check(found.text, seen_at or utc_now())
        return recorded(str(found.format), verdict)

    def text(self, data: bytes) -> str:
        """The text of the health code in ``data``, or :class:`PhotoError`."""
        return self.code(data).text

    def code(self, data: bytes) -> HealthCode:
        """The first health code in ``data``, or :class:`PhotoError`."""
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
                return found
        raise PhotoError("photo_no_code")


def recorded(code_format: str, verdict: HealthCodeObservation | None) -> str:
    """What the report keeps: the format, then ``:valid`` or the first reason code."""
    if verdict is None:
        return code_format
    if verdict.status is VerificationStatus.VALID:
        return f"{code_format}:valid"
    reason = verdict.reason_codes[0] if verdict.reason_codes else verdict.status
    return f"{code_format}:{reason}"
