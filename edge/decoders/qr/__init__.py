"""QR decoding: pluggable backends (zxing-cpp, pyzbar, OpenCV, a scripted fake).

Example::

    decoder = create()  # the best backend available here, time-bounded
    for symbol in decoder.decode(gray):
        route(symbol.payload)
"""

from edge.decoders.qr.base import QrDecoder, QrSymbol, as_gray
from edge.decoders.qr.bounded import BoundedDecoder, BoundedStats
from edge.decoders.qr.registry import available, create, default_backend, load_backends

__all__ = [
    "BoundedDecoder",
    "BoundedStats",
    "QrDecoder",
    "QrSymbol",
    "as_gray",
    "available",
    "create",
    "default_backend",
    "load_backends",
]
