"""Signed report-code tokens: which grid (or the whole district) and until when.

A token is ``base64url(payload) "." base64url(mac)``, the payload compact JSON
``{"g": grid or "", "x": expiry (unix s)}`` and the mac the first 16 bytes of HMAC-SHA256
under a key derived from the hub's secret key (so a report code never signs a login).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import TypeAdapter

from models.base import Identifier

MAC_BYTES = 16
MAX_TOKEN_CHARS = 256
_LABEL = b"gridgate report-code v1"
_GRID_ID: TypeAdapter[str] = TypeAdapter(Identifier)


class ReportTokenError(ValueError):
    """A token that is not ours (``forged``), unreadable (``malformed``) or ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ReportScope:
    """What a report code covers: one grid, or the district (``grid_id`` None)."""

    grid_id: str | None
    expires_at: datetime


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def sign_report_token(scope: ReportScope, secret_key: str) -> str:
    """The compact token naming ``scope``."""
    if scope.grid_id is not None:
        _GRID_ID.validate_python(scope.grid_id)  # a grid id the ledger could hold
    body = {"g": scope.grid_id or "", "x": int(scope.expires_at.timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    mac = hmac.new(_key(secret_key), payload.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return f"{payload}.{_b64(mac)}"


def verify_report_token(token: str, secret_key: str, now: datetime) -> ReportScope:
    """The scope ``token`` names, or :class:`ReportTokenError`."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise ReportTokenError("malformed")
    payload, mac_text = token.split(".")
    try:
        mac = _unb64(mac_text)
    except (binascii.Error, ValueError):
        raise ReportTokenError("malformed") from None
    expected = hmac.new(_key(secret_key), payload.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise ReportTokenError("forged")
    try:
        body = json.loads(_unb64(payload))
        grid, expiry = str(body["g"]), int(body["x"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ReportTokenError("malformed") from None
    expires_at = datetime.fromtimestamp(expiry, UTC)
    if expires_at <= now:
        raise ReportTokenError("expired")
    return ReportScope(grid or None, expires_at)
