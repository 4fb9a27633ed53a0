"""Logins, managed by admins: list, create, disable (what ``gridgate-hub users`` does)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import select

from hub.api.deps import StoreDep, require_role
from hub.auth.roles import Principal, Role
from hub.auth.users import UserError, create_user
from hub.store.user_tables import UserRow
from models.base import utc_now

router = APIRouter(prefix="/api/users", tags=["users"])

AdminDep = Annotated[Principal, Depends(require_role(Role.ADMIN))]
"""Admins only: operators watch every grid but do not manage logins."""


class User(BaseModel):
    """A login as admins see it (never its password hash)."""

    username: str = Field(title="User name")
    role: Role = Field(title="Role")
    display_name: str = Field(title="Display name")
    worker_id: str | None = Field(title="Grid worker", description="Grid-worker logins only.")
    group_id: str | None = Field(title="Group", description="Group-admin logins only.")
    disabled: bool = Field(title="Disabled")
    created_at: datetime = Field(title="Created at")


class NewUser(BaseModel):
    """A login to create."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64, title="User name", description="2-64 characters.")
    password: SecretStr = Field(title="Password", description="The initial password.")
    role: Role = Field(title="Role", description="admin, operator, grid_worker or group_admin.")
    display_name: str = Field("", max_length=100, title="Display name")
    worker_id: str | None = Field(
        None, title="Grid worker", description="The ledger's worker id (grid workers)."
    )
    group_id: str | None = Field(
        None, title="Group", description="The ledger's group id (group admins)."
    )


def _user(row: UserRow) -> User:
    return User.model_validate(row, from_attributes=True)


@router.get("", response_model=list[User])
def list_users(caller: AdminDep, store: StoreDep) -> list[User]:
    """Every login, by name."""
    with store.sessions() as session:
        return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.username))]


@router.post("", response_model=User, status_code=status.HTTP_201_CREATED)
def add_user(body: NewUser, caller: AdminDep, store: StoreDep) -> User:
    """Create a login; 409 when the name is taken, 422 for any other refusal."""
    if body.role is Role.DEVICE:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "devices log in with their own credentials"
        )
    taken = False
    try:
        with store.transaction() as session:
            taken = session.get(UserRow, body.username) is not None
            row = create_user(
                session,
                body.username,
                body.password.get_secret_value(),
                body.role,
                utc_now(),
                display_name=body.display_name,
                worker_id=body.worker_id,
                group_id=body.group_id,
            )
            session.flush()
            created = _user(row)
    except UserError as exc:
        code = status.HTTP_409_CONFLICT if taken else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, str(exc)) from None
    return created


@router.delete("/{username}", response_model=User)
def disable_user(username: str, caller: AdminDep, store: StoreDep) -> User:
    """Disable a login (its tokens stop working at once); an admin cannot disable themself."""
    if username == caller.username:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot disable your own login")
    with store.transaction() as session:
        row = session.get(UserRow, username)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {username}")
        row.disabled = True
        session.flush()
        return _user(row)
