"""zxing-cpp backend (the default): fast, robust to blur, tilt and low contrast."""

from __future__ import annotations

from typing import Any

import numpy as np
import zxingcpp

from edge.decoders.qr.base import QrSymbol, as_gray, qr_backends, text_of

# zxing-cpp 3 groups every QR variant under QRCode; keep to plain QR codes where it can tell.
_QR_ONLY: Any = (
    (zxingcpp.BarcodeFormat.QRCodeModel1, zxingcpp.BarcodeFormat.QRCodeModel2)
    if hasattr(zxingcpp.BarcodeFormat, "QRCodeModel2")
    else zxingcpp.BarcodeFormat.QRCode
)


def _corners(position: Any) -> tuple[tuple[float, float], ...]:
    points = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    return tuple((float(p.x), float(p.y)) for p in points)


@qr_backends.register("zxing")
class ZxingDecoder:
    """QR codes only, via ``zxingcpp.read_barcodes``; damaged symbols are not returned.

    ``text`` is the raw bytes read as UTF-8, None when they are not (as with pyzbar), so
    payload routing refuses them as ``not_utf8`` instead of reading zxing's charset guess.
    """

    name = "zxing"

    def __init__(self, *, try_downscale: bool = True, try_invert: bool = True) -> None:
        self._try_downscale = try_downscale
        self._try_invert = try_invert

    def decode(self, gray: np.ndarray) -> list[QrSymbol]:
        """Every valid QR code in ``gray``."""
        results = zxingcpp.read_barcodes(
            as_gray(gray),
            formats=_QR_ONLY,
            try_downscale=self._try_downscale,
            try_invert=self._try_invert,
        )
        symbols = []
        for result in results:
            if not result.valid:
                continue
            raw = bytes(result.bytes)
            # zxing's own text guesses a charset and renders NUL as "<NUL>": trust only UTF-8.
            symbols.append(QrSymbol(text_of(raw), raw, _corners(result.position), self.name))
        return symbols
