"""Logins for API tests: create one in the store, log in over HTTP, get the bearer header."""

from __future__ import annotations

from hub.auth.roles import Role
from hub.auth.users import create_user
from hub.store.db import Store
from models.base import utc_now

PASSWORD = "test-password-1234"


def add_login(
    store: Store,
    username: str = "operator",
    role: Role = Role.OPERATOR,
    *,
    worker_id: str | None = None,
    group_id: str | None = None,
    password: str = PASSWORD,
) -> None:
    """Create a login in ``store``."""
    with store.transaction() as session:
        create_user(
            session, username, password, role, utc_now(), worker_id=worker_id, group_id=group_id
        )


def bearer(client: object, username: str = "operator", password: str = PASSWORD) -> dict[str, str]:
    """Log in through ``/api/auth/token`` (TestClient or httpx.Client) and return the header."""
    response = client.post(  # type: ignore[attr-defined]
        "/api/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def operator_headers(store: Store, client: object) -> dict[str, str]:
    """Create the default operator login and log it in."""
    add_login(store)
    return bearer(client)
