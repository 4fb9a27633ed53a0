"""pyzbar (ZBar) backend, restricted to QR codes; needs the system's libzbar0.

ZBar has been reported to spend seconds on some unreadable codes: wrap it in
:class:`edge.decoders.qr.bounded.BoundedDecoder` (the registry's ``create`` does).

By default ZBar guesses a charset for byte-mode QR data and re-encodes it as UTF-8: it
turns ``b"\\xff"`` into ``"ÿ"`` and even misreads UTF-8 text as Shift-JIS. The scanner is
set to binary mode (``ZBAR_CFG_BINARY``, ZBar >= 0.23) so the raw bytes come back and
only valid UTF-8 becomes text, as with the zxing backend.
"""

from __future__ import annotations

from ctypes import c_char_p, c_void_p, cast

import numpy as np
import pyzbar.pyzbar as zbar
from pyzbar.wrapper import (
    ZBarConfig,
    ZBarSymbol,
    zbar_image_scanner_set_config,
    zbar_image_set_data,
    zbar_image_set_format,
    zbar_image_set_size,
    zbar_scan_image,
)

from edge.decoders.qr.base import QrSymbol, as_gray, qr_backends, text_of

CFG_BINARY = 4
"""``ZBAR_CFG_BINARY`` in zbar.h (0.23+); pyzbar 0.1.9's enum predates it."""
_GRAY = 808466521  # fourcc "Y800": 8-bit grayscale


@qr_backends.register("pyzbar")
class PyzbarDecoder:
    """QR codes only, via ZBar's image scanner with only QR enabled, in binary mode.

    ``binary`` is False when this libzbar refuses binary mode (older than 0.23): texts
    are then ZBar's charset guess.
    """

    name = "pyzbar"

    def __init__(self) -> None:
        self.binary = True

    def decode(self, gray: np.ndarray) -> list[QrSymbol]:
        """Every QR code ZBar finds in ``gray``."""
        image = as_gray(gray)
        height, width = image.shape
        pixels = image.tobytes()
        with zbar._image_scanner() as scanner:
            for symbology in ZBarSymbol:  # what pyzbar.decode(symbols=[QRCODE]) sets
                enable = int(symbology is ZBarSymbol.QRCODE)
                zbar_image_scanner_set_config(scanner, symbology, ZBarConfig.CFG_ENABLE, enable)
            if zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, CFG_BINARY, 1) != 0:
                self.binary = False
            with zbar._image() as zimage:
                zbar_image_set_format(zimage, _GRAY)
                zbar_image_set_size(zimage, width, height)
                zbar_image_set_data(zimage, cast(c_char_p(pixels), c_void_p), len(pixels), None)
                if zbar_scan_image(scanner, zimage) < 0:
                    return []
                found = list(zbar._decode_symbols(zbar._symbols_for_image(zimage)))
        symbols = []
        for result in found:
            raw = bytes(result.data)
            corners = tuple((float(p.x), float(p.y)) for p in result.polygon)
            symbols.append(QrSymbol(text_of(raw), raw, corners, self.name))
        return symbols
