"""Access tokens: HS256 JWTs signed with the hub's secret key, short-lived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from hub.auth.roles import Role

ALGORITHM = "HS256"
AUDIENCE = "gridgate-hub"


class TokenError(ValueError):
    """The token is missing, malformed, badly signed or expired."""


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says."""

    username: str
    role: Role


def issue_token(username: str, role: Role, secret: str, now: datetime, ttl: timedelta) -> str:
    """A signed token for ``username`` valid for ``ttl``."""
    claims = {
        "sub": username,
        "role": str(role),
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str) -> TokenClaims:
    """The claims of a token this hub signed, or :class:`TokenError`."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "role", "exp", "aud"]},
        )
        return TokenClaims(username=str(claims["sub"]), role=Role(claims["role"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise TokenError(str(exc)) from None
