"""Logins in the store: create, authenticate, and resolve to a :class:`Principal`."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.passwords import MIN_PASSWORD_CHARS, hash_password, verify_password
from hub.auth.roles import Principal, Role
from hub.devices.passwords import PasswordHashError
from hub.devices.passwords import verify_password as verify_device_password
from hub.store.device_tables import RegisteredDeviceRow
from hub.store.ledger_tables import GridRow, GridWorkerRow, GroupRow, worker_grids
from hub.store.user_tables import UserRow

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}")
_DUMMY_HASH = hash_password("timing-equaliser")


class UserError(ValueError):
    """A login cannot be created or changed as asked."""


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    now: datetime,
    *,
    display_name: str = "",
    worker_id: str | None = None,
    group_id: str | None = None,
) -> UserRow:
    """Add a login; grid workers must name a worker of the ledger."""
    if not USERNAME_RE.fullmatch(username):
        raise UserError(f"user name {username!r}: 2-64 letters, digits, '_', '.', '@' or '-'")
    _check_password(password)
    if session.get(UserRow, username) is not None:
        raise UserError(f"user {username} exists")
    if role is Role.GRID_WORKER and worker_id is None:
        raise UserError("a grid_worker login needs --worker (the ledger's worker id)")
    if worker_id is not None and session.get(GridWorkerRow, worker_id) is None:
        raise UserError(f"no grid worker {worker_id} in the ledger")
    if role is Role.GROUP_ADMIN and group_id is None:
        raise UserError("a group_admin login needs --group (the ledger's group id)")
    if group_id is not None and session.get(GroupRow, group_id) is None:
        raise UserError(f"no group {group_id} in the ledger")
    row = UserRow(
        username=username,
        password_hash=hash_password(password),
        role=str(role),
        display_name=display_name or username,
        worker_id=worker_id,
        group_id=group_id,
        disabled=False,
        created_at=now,
    )
    session.add(row)
    return row


def set_password(session: Session, username: str, password: str) -> None:
    """Replace the password of ``username``."""
    _check_password(password)
    row = session.get(UserRow, username)
    if row is None:
        raise UserError(f"no user {username}")
    row.password_hash = hash_password(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password: at least {MIN_PASSWORD_CHARS} characters")


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    """The enabled login whose password matches, else None (same cost either way)."""
    row = session.get(UserRow, username)
    if row is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, row.password_hash) or row.disabled:
        return None
    return row


def authenticate_device(session: Session, device_id: str, password: str) -> bool:
    """An active, password-provisioned device whose broker password matches."""
    row = session.get(RegisteredDeviceRow, device_id)
    if row is None or row.revoked_at is not None or not row.credential:
        verify_password(password, _DUMMY_HASH)
        return False
    try:
        return verify_device_password(password, row.credential)
    except PasswordHashError:
        return False


def principal(session: Session, username: str, role: Role) -> Principal | None:
    """The enabled login (or active device) ``username`` with the grids or site it may see."""
    if role is Role.DEVICE:
        device = session.get(RegisteredDeviceRow, username)
        if device is None or device.revoked_at is not None:
            return None
        return Principal(username, Role.DEVICE, username, None, frozenset(), device.site_id)
    row = session.get(UserRow, username)
    if row is None or row.disabled or Role(row.role) is not role:
        return None
    grids: frozenset[str] | None = None
    if role is Role.GRID_WORKER:
        grids = frozenset(
            session.scalars(
                select(worker_grids.c.grid_id).where(worker_grids.c.worker_id == row.worker_id)
            )
        )
        led = session.scalars(
            select(GridRow.grid_id).where(GridRow.leader_worker_id == row.worker_id)
        )
        grids |= frozenset(led)
    elif role is Role.GROUP_ADMIN:
        grids = frozenset()
    return Principal(
        username=row.username,
        role=role,
        display_name=row.display_name,
        worker_id=row.worker_id,
        grids=grids,
        group_id=row.group_id,
    )
