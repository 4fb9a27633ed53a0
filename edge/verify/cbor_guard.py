"""CBOR from untrusted input: the item structure is checked before anything is built.

:func:`loads` first walks the encoded bytes without allocating (one pass, so time is linear
in the input, which the caller has already capped): exactly one item and no trailing bytes,
containers nested at most ``max_depth`` deep, no indefinite-length strings, and only the tags
the caller allows. That keeps cbor2's richer tags (shared references that build cycles,
bigfloats, regular expressions, MIME messages) out of reach. Then cbor2 decodes, refusing
duplicate map keys.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import cbor2

MAX_DEPTH: Final = 16
"""A CWT holding an EU DCC nests six levels deep."""
_INDEFINITE: Final = -1


class CborError(ValueError):
    """Not one well-formed CBOR item within the limits."""


def loads(data: bytes, *, allowed_tags: Collection[int], max_depth: int = MAX_DEPTH) -> object:
    """Decode one CBOR item after :func:`check` accepted its structure."""
    check(data, allowed_tags=allowed_tags, max_depth=max_depth)
    try:
        return cbor2.loads(data, max_depth=max_depth + 1, allow_duplicate_keys=False)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise CborError(f"undecodable CBOR: {exc}") from None


def _argument(data: bytes, pos: int, info: int) -> tuple[int | None, int]:
    """The head's argument (None: indefinite length) and the position after it."""
    if info < 24:
        return info, pos
    if info <= 27:
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise CborError("truncated item head")
        return int.from_bytes(data[pos : pos + size], "big"), pos + size
    if info == 31:
        return None, pos
    raise CborError(f"reserved additional information {info}")


def check(data: bytes, *, allowed_tags: Collection[int], max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`CborError` unless ``data`` is one item within the limits."""
    pending: list[int] = []  # items still expected in each open container (or _INDEFINITE)
    pos = 0
    while True:
        if pos >= len(data):
            raise CborError("truncated CBOR")
        head = data[pos]
        pos += 1
        major, info = head >> 5, head & 0x1F
        if head == 0xFF:
            if not pending or pending[-1] != _INDEFINITE:
                raise CborError("unexpected break")
            pending.pop()
        else:
            argument, pos = _argument(data, pos, info)
            if argument is None and major not in (4, 5):
                raise CborError("indefinite length where none is allowed")
            if major in (2, 3) and argument is not None:
                if argument > len(data) - pos:
                    raise CborError("string longer than the data")
                pos += argument
            elif major in (4, 5, 6):
                if major == 6 and argument not in allowed_tags:
                    raise CborError(f"tag {argument} is not allowed here")
                if major == 6:
                    count = 1
                elif argument is None:
                    count = _INDEFINITE
                else:
                    count = argument * (2 if major == 5 else 1)
                if count != 0:
                    if len(pending) >= max_depth:
                        raise CborError(f"nested deeper than {max_depth}")
                    pending.append(count)
                    continue
            elif major == 7 and info == 24 and argument is not None and argument < 32:
                raise CborError("badly encoded simple value")
        # One item is complete: count it off its enclosing containers.
        while pending and pending[-1] != _INDEFINITE:
            pending[-1] -= 1
            if pending[-1]:
                break
            pending.pop()
        else:
            if not pending:
                break
    if pos != len(data):
        raise CborError(f"{len(data) - pos} bytes follow the CBOR item")
