"""Chinese resident ID numbers: validation (python-stdnum) and the keyed holder reference.

The same results as :func:`stdnum.cn.ric.validate` and :func:`models.identity.holder_ref`,
made fast enough for 800,000-row imports: the birth-place check is cached per region and
year, and the HMAC runs one-shot.
"""

from __future__ import annotations

import hashlib
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from models.identity import (
    HOLDER_REF_PREFIX,
    mask_id_number,
    normalise_id_number,
    resident_id_for,
)

__all__ = [
    "HolderHasher",
    "InvalidIdNumberError",
    "mask_canonical",
    "mask_id_number",
    "resident_id_for",
    "validate_id_number",
]

MIN_KEY_BYTES = 16


class InvalidIdNumberError(ValueError):
    """Not a valid resident ID number; the message says why (never the number)."""


_PLACES: dict[tuple[str, int], bool] = {}
"""Whether a region code existed in a birth year (as stdnum's birth-place check decides)."""


def _birth_place_known(number: str, year: int) -> bool:
    key = (number[:6], year)
    known = _PLACES.get(key)
    if known is None:
        try:
            ric.get_birth_place(number)
            known = True
        except InvalidComponent:
            known = False
        _PLACES[key] = known
    return known


def validate_id_number(value: str) -> str:
    """The canonical 18-character ID number, or :class:`InvalidIdNumberError`."""
    number = normalise_id_number(value)
    if len(number) != 18:
        raise InvalidIdNumberError(f"must have 18 characters, not {len(number)}")
    if not number[:17].isdigit() or not number[:17].isascii():
        raise InvalidIdNumberError("the first 17 characters must be digits")
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdNumberError("wrong check digit")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumberError("invalid birth date") from None
    if not _birth_place_known(number, birth.year):
        raise InvalidIdNumberError("unknown region code")
    return number


def stdnum_reason(value: str) -> str | None:
    """Why :func:`stdnum.cn.ric.validate` refuses ``value`` (None when valid); for tests."""
    try:
        ric.validate(value)
    except (InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength) as exc:
        return type(exc).__name__
    return None


_B32_PAIRS = [
    a + b for a in "abcdefghijklmnopqrstuvwxyz234567" for b in "abcdefghijklmnopqrstuvwxyz234567"
]
"""Every two lower-case base32 characters, by their 10-bit value."""


class HolderHasher:
    """Keyed holder references for one identity key (as :func:`models.identity.holder_ref`).

    HMAC-SHA256 with the key's inner and outer pads hashed once (RFC 2104), and base32 of
    the 160-bit prefix computed on an integer: the same output, several times faster.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the identity key must be at least {MIN_KEY_BYTES} bytes")
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))

    def __call__(self, id_number: str) -> str:
        """The holder reference of ``id_number``."""
        return self.canonical(normalise_id_number(id_number))

    def canonical(self, number: str) -> str:
        """The holder reference of an already normalised number (see :func:`validate_id_number`)."""
        inner = self._inner.copy()
        inner.update(number.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        value = int.from_bytes(outer.digest()[:20], "big")
        return HOLDER_REF_PREFIX + "".join([_B32_PAIRS[(value >> s) & 1023] for s in _SHIFTS])


_SHIFTS = range(150, -1, -10)


def mask_canonical(number: str) -> str:
    """:func:`mask_id_number` of a validated 18-character number."""
    return number[:3] + "***********" + number[-4:]
