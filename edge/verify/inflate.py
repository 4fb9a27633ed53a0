"""DEFLATE with a hard cap on the output: a decompression bomb is refused, not inflated."""

from __future__ import annotations

import zlib
from typing import Final

MAX_INFLATED_BYTES: Final = 64 * 1024
"""Far above any real certificate (an EU DCC inflates to under 2 KiB, an SHC to under 10)."""


class InflateError(ValueError):
    """Not a complete DEFLATE stream, trailing bytes after it, or too large inflated."""


def inflate(data: bytes, *, raw: bool, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """Inflate zlib (``raw=False``, RFC 1950) or raw DEFLATE (``raw=True``, RFC 1951) data.

    At most ``limit + 1`` bytes are ever produced, whatever the input claims.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise InflateError(f"not DEFLATE data: {exc}") from None
    if len(out) > limit:
        raise InflateError(f"inflates to more than {limit} bytes")
    if not inflater.eof:
        raise InflateError("the compressed stream is truncated")
    if inflater.unused_data:
        raise InflateError("bytes follow the compressed stream")
    return out
