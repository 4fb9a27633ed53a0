"""Handheld access to the checkpoint page: one site token, presented once, then a cookie.

A page on loopback needs nothing. A page on the checkpoint's LAN requires the token: a
handheld opens the pairing link ``http://<address>:<port>/?token=…`` once (a QR code the
operator scans, ``gridgate-edge checkpoint pairing-qr``), which sets an HttpOnly,
SameSite=Strict cookie; every other request without that cookie gets 401. Replacing the
token file and restarting the agent unpairs every handheld.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from pathlib import Path
from urllib.parse import urlencode

import segno
from starlette.responses import Response

COOKIE = "gridgate_checkpoint"
COOKIE_MAX_AGE_S = 30 * 24 * 3600
"""A paired handheld stays paired for 30 days (or until the token changes)."""
MIN_TOKEN_CHARS = 22
"""128 bits as ``secrets.token_urlsafe(16)`` writes them."""
_TOKEN_FORM = re.compile(r"^[A-Za-z0-9_-]+$")


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: assume it resolves to the network


def is_wildcard(host: str) -> bool:
    """Whether a listen address means every interface (no address a handheld can use)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def load_access_token(path: Path) -> str:
    """The page's token from its file (surrounding whitespace ignored); ValueError if unfit."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the access token: {exc.strerror}") from None
    if len(token) < MIN_TOKEN_CHARS or not _TOKEN_FORM.match(token):
        raise ValueError(
            f"{path}: the access token must be at least {MIN_TOKEN_CHARS} URL-safe characters "
            "(A-Z a-z 0-9 - _), e.g. from python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'"
        )
    return token


class PageAccess:
    """Who may use the page: anyone (no token) or holders of the token's cookie."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token is not None else None

    @property
    def required(self) -> bool:
        """A token is configured: requests must present it."""
        return self._token is not None

    def accepts(self, presented: str | None) -> bool:
        """``presented`` is the token (compared in constant time); anything goes without one."""
        if self._token is None:
            return True
        return presented is not None and hmac.compare_digest(presented.encode(), self._token)

    def pair(self, response: Response) -> None:
        """Give the handheld its cookie (the page itself is plain HTTP on the LAN: no Secure)."""
        assert self._token is not None
        response.set_cookie(
            COOKIE,
            self._token.decode(),
            max_age=COOKIE_MAX_AGE_S,
            path="/",
            httponly=True,
            samesite="strict",
        )


def pairing_url(address: str, port: int, token: str) -> str:
    """The link a handheld opens once to pair with the page at ``address:port``."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/?{urlencode({'token': token})}"


def write_pairing_qr(url: str, png: Path) -> None:
    """The pairing link as a QR code PNG, readable by its owner only (it holds the token)."""
    png.touch(mode=0o600, exist_ok=True)
    png.chmod(0o600)
    segno.make(url, error="m").save(str(png), kind="png", scale=8, border=4)
