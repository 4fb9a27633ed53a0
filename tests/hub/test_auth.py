"""Logins: password hashing, tokens, roles, grid scoping, and the users CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.api.main import create_app
from hub.auth.passwords import hash_password, verify_password
from hub.auth.roles import Role
from hub.auth.tokens import TokenError, issue_token, read_token
from hub.auth.users import UserError, create_user
from hub.cli import app as hub_cli
from hub.config import HubSettings
from hub.store import Store
from models.base import utc_now
from tests.hub.conftest import TEST_SECRET
from tests.support.grids import seed_grids
from tests.support.logins import PASSWORD, add_login, bearer

runner = CliRunner()


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


def test_password_hashes_are_salted_and_verify_only_the_password() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first != second
    assert verify_password("s3cret-pass", first) and verify_password("s3cret-pass", second)
    assert not verify_password("s3cret-pasS", first)
    for broken in ("", "scrypt$1$2", "bcrypt$x$y$z$a$b", first.replace("$", "$x", 1)):
        assert not verify_password("s3cret-pass", broken)


def test_tokens_round_trip_and_refuse_tampering_expiry_and_other_keys() -> None:
    now = utc_now()
    token = issue_token("li", Role.OPERATOR, TEST_SECRET, now, timedelta(minutes=5))
    claims = read_token(token, TEST_SECRET)
    assert (claims.username, claims.role) == ("li", Role.OPERATOR)
    with pytest.raises(TokenError):
        read_token(token, TEST_SECRET + "x")
    with pytest.raises(TokenError):
        read_token(token[:-3] + "abc", TEST_SECRET)
    expired = issue_token(
        "li", Role.OPERATOR, TEST_SECRET, now - timedelta(hours=1), timedelta(minutes=1)
    )
    with pytest.raises(TokenError):
        read_token(expired, TEST_SECRET)
    unsigned = jwt.encode({"sub": "li", "role": "admin"}, key="", algorithm="none")
    with pytest.raises(TokenError):
        read_token(unsigned, TEST_SECRET)


def test_create_user_refuses_bad_names_short_passwords_duplicates_and_unknown_workers(
    store: Store,
) -> None:
    with store.transaction() as session:
        create_user(session, "li.wei", PASSWORD, Role.OPERATOR, utc_now())
    cases = [
        ("a", PASSWORD, Role.OPERATOR, None, "user name"),
        ("zhang", "short", Role.OPERATOR, None, "at least 8"),
        ("li.wei", PASSWORD, Role.OPERATOR, None, "exists"),
        ("wang", PASSWORD, Role.GRID_WORKER, None, "needs --worker"),
        ("wang", PASSWORD, Role.GRID_WORKER, "W-404", "no grid worker W-404"),
    ]
    for username, password, role, worker, message in cases:
        with pytest.raises(UserError, match=message), store.transaction() as session:
            create_user(session, username, password, role, utc_now(), worker_id=worker)


def test_login_gives_a_token_that_opens_the_api(client: TestClient, store: Store) -> None:
    assert client.get("/api/alerts").status_code == 401
    assert client.get("/api/events").status_code == 401
    add_login(store, "li.wei")
    wrong = client.post("/api/auth/token", data={"username": "li.wei", "password": "nope-nope"})
    assert wrong.status_code == 401
    nobody = client.post("/api/auth/token", data={"username": "nobody", "password": PASSWORD})
    assert nobody.status_code == 401
    headers = bearer(client, "li.wei")
    me = client.get("/api/auth/me", headers=headers).json()
    assert me["username"] == "li.wei" and me["role"] == "operator" and me["grids"] is None
    assert client.get("/api/events", headers=headers).status_code == 200
    garbage = {"Authorization": "Bearer not.a.token"}
    assert client.get("/api/alerts", headers=garbage).status_code == 401


def test_a_disabled_login_stops_working_at_once(client: TestClient, store: Store) -> None:
    add_login(store, "li.wei")
    headers = bearer(client, "li.wei")
    url = str(store.engine.url)
    result = runner.invoke(hub_cli, ["users", "disable", "li.wei", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert client.get("/api/alerts", headers=headers).status_code == 401
    login = client.post("/api/auth/token", data={"username": "li.wei", "password": PASSWORD})
    assert login.status_code == 401


def test_grid_workers_may_not_read_events_or_devices(client: TestClient, store: Store) -> None:
    seed_grids(store)
    add_login(store, "wang", Role.GRID_WORKER, worker_id="W-A")
    headers = bearer(client, "wang")
    assert client.get("/api/events", headers=headers).status_code == 403
    assert client.get("/api/devices", headers=headers).status_code == 403
    me = client.get("/api/auth/me", headers=headers).json()
    assert me["grids"] == ["G-A"]


def test_users_cli_adds_lists_and_changes_passwords(store: Store) -> None:
    url = str(store.engine.url)
    added = runner.invoke(
        hub_cli,
        ["users", "add", "ops", "--role", "operator", "--password-stdin", "--database-url", url],
        input="first-password\n",
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(
        hub_cli,
        ["users", "add", "ops", "--role", "admin", "--password-stdin", "--database-url", url],
        input="other-password\n",
    )
    assert again.exit_code == 2 and "exists" in again.output
    short = runner.invoke(
        hub_cli,
        ["users", "passwd", "ops", "--password-stdin", "--database-url", url],
        input="short\n",
    )
    assert short.exit_code == 2 and "at least 8" in short.output
    changed = runner.invoke(
        hub_cli,
        ["users", "passwd", "ops", "--password-stdin", "--database-url", url],
        input="second-password\n",
    )
    assert changed.exit_code == 0, changed.output
    listed = runner.invoke(hub_cli, ["users", "list", "--database-url", url])
    assert "ops" in listed.output and "operator" in listed.output
    from hub.auth.users import authenticate

    with store.sessions() as session:
        assert authenticate(session, "ops", "second-password") is not None
        assert authenticate(session, "ops", "first-password") is None
