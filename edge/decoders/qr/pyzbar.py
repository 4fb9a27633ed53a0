"""pyzbar (ZBar) backend, restricted to QR codes; needs the system's libzbar0.

ZBar has been reported to spend seconds on some unreadable codes: wrap it in
:class:`edge.decoders.qr.bounded.BoundedDecoder` (the registry's ``create`` does).
"""

from __future__ import annotations

import numpy as np
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from edge.decoders.qr.base import QrSymbol, as_gray, qr_backends, text_of


@qr_backends.register("pyzbar")
class PyzbarDecoder:
    """QR codes only, via ``pyzbar.decode(symbols=[ZBarSymbol.QRCODE])``."""

    name = "pyzbar"

    def decode(self, gray: np.ndarray) -> list[QrSymbol]:
        """Every QR code ZBar finds in ``gray``."""
        symbols = []
        for result in zbar_decode(as_gray(gray), symbols=[ZBarSymbol.QRCODE]):
            raw = bytes(result.data)
            corners = tuple((float(p.x), float(p.y)) for p in result.polygon)
            symbols.append(QrSymbol(text_of(raw), raw, corners, self.name))
        return symbols
