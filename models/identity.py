"""Personal identifiers as the ledger and the passes carry them: keyed hash plus masked form.

An ID number is never stored or sent in clear. Both sides derive the same holder reference
from the same site key, so a pass's holder can be matched to a ledger resident.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata

HOLDER_REF_PREFIX = "h1:"


def normalise_id_number(id_number: str) -> str:
    """Canonical form of an ID number: NFKC, no spaces, upper case (for the 'X' check digit)."""
    return "".join(unicodedata.normalize("NFKC", id_number).split()).upper()


def holder_ref(id_number: str, key: bytes) -> str:
    """Keyed hash (HMAC-SHA256, 160 bits, base32) of an ID number."""
    if len(key) < 16:
        raise ValueError("the identity key must be at least 16 bytes")
    digest = hmac.new(key, normalise_id_number(id_number).encode(), hashlib.sha256).digest()
    return HOLDER_REF_PREFIX + base64.b32encode(digest[:20]).decode().rstrip("=").lower()


def mask_id_number(id_number: str) -> str:
    """Masked display form: first 3 and last 4 characters kept, e.g. ``110***********1234``."""
    value = normalise_id_number(id_number)
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(name: str) -> str:
    """Masked display name: the first character kept, e.g. ``张**``."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def resident_id_for(holder_ref: str) -> str:
    """The resident id the hub gives a person it learns from a holder reference (ledger import,
    kiosk approval): stable for the same person and key, so an edge can tell whether the face
    it matched is the pass's holder."""
    return "r" + holder_ref.removeprefix(HOLDER_REF_PREFIX)[:20]
