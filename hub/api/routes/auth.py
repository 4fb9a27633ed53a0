"""Login (OAuth2 password flow) and who the caller is."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from hub.api.deps import PrincipalDep, SessionDep, SettingsDep
from hub.auth.roles import Role
from hub.auth.tokens import issue_token
from hub.auth.users import authenticate, authenticate_device
from models.base import utc_now

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until it expires.")


class Me(BaseModel):
    """The logged-in caller."""

    username: str
    role: Role
    display_name: str
    worker_id: str | None
    grids: list[str] | None = Field(description="The grids this login sees; null: all.")
    group_id: str | None = Field(None, description="The group a group admin watches.")


@router.post("/token", response_model=Token)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a user name and password (or a device id and its broker password) for a token."""
    row = authenticate(session, form.username, form.password)
    if row is not None:
        username, role = row.username, Role(row.role)
    elif authenticate_device(session, form.username, form.password):
        username, role = form.username, Role.DEVICE  # a device logs in with its broker password
    else:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "wrong user name or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    ttl = timedelta(minutes=settings.token_ttl_min)
    token = issue_token(username, role, settings.secret_key.get_secret_value(), utc_now(), ttl)
    return Token(access_token=token, expires_in=int(ttl.total_seconds()))


@router.get("/me", response_model=Me)
def me(caller: PrincipalDep) -> Me:
    """Who this token belongs to and what it sees."""
    return Me(
        username=caller.username,
        role=caller.role,
        display_name=caller.display_name,
        worker_id=caller.worker_id,
        grids=sorted(caller.grids) if caller.grids is not None else None,
        group_id=caller.group_id,
    )
