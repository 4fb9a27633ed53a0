"""ID numbers at the checkpoint: validated, then only the ledger's keyed hash and masked form.

The holder reference is :func:`models.identity.holder_ref` with the site's identity key, the
same value the hub's ledger import (``HolderHasher``) and the pass issuer derive, so a typed
ID can be compared with the holder of a pass. The number itself is never kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from models.identity import holder_ref, mask_id_number, normalise_id_number

MIN_KEY_BYTES = 16
_WHY = {
    InvalidLength: "an ID number has 18 characters",
    InvalidFormat: "the first 17 characters must be digits",
    InvalidChecksum: "wrong check digit",
    InvalidComponent: "invalid birth date or region code",
}


class IdNumberError(ValueError):
    """Not a valid resident ID number; the message says why (never the number)."""


@dataclass(frozen=True)
class ScannedId:
    """What is kept of a scanned ID: the keyed hash and the masked form."""

    ref: str
    masked: str


def load_identity_key(path: Path) -> bytes:
    """The site's identity key from its file (surrounding whitespace ignored)."""
    key = path.read_text(encoding="utf-8").strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{path}: the identity key must be at least {MIN_KEY_BYTES} bytes")
    return key


class IdReader:
    """Turns a typed or scanned ID number into a :class:`ScannedId` with the site's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the identity key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def read(self, text: str) -> ScannedId:
        """Validate (check digit, birth date, region) and hash; raises :class:`IdNumberError`."""
        number = normalise_id_number(text)
        try:
            ric.validate(number)
        except (InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength) as exc:
            raise IdNumberError(_WHY[type(exc)]) from None
        return ScannedId(holder_ref(number, self._key), mask_id_number(number))
