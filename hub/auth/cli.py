"""``gridgate-hub users``: the logins of admins, operators and grid workers."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from hub.auth.roles import Role
from hub.auth.users import UserError, create_user, set_password
from hub.cli_store import DatabaseUrl, DataDir, console, fail, open_store
from hub.store.user_tables import UserRow
from models.base import utc_now

app = typer.Typer(help="Logins of the hub's dashboard and API.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option("--role", help="admin, operator, grid_worker or device.")],
    worker: Annotated[
        str | None, typer.Option("--worker", help="The ledger's worker id (grid workers).")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="The ledger's group id (group admins).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Name shown on the dashboard.")] = "",
    password_stdin: PasswordStdin = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Create a login (the password is asked for, or read from stdin)."""
    password = _password(password_stdin)
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as session:
            create_user(
                session,
                username,
                password,
                role,
                utc_now(),
                display_name=name,
                worker_id=worker,
                group_id=group,
            )
    except UserError as exc:
        fail(str(exc))
    finally:
        store.close()
    console.print(f"added {role} login {username}")


@app.command("passwd")
def passwd(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: PasswordStdin = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Set a new password."""
    password = _password(password_stdin)
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as session:
            set_password(session, username, password)
    except UserError as exc:
        fail(str(exc))
    finally:
        store.close()
    console.print(f"password of {username} changed")


@app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="Login name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again instead.")] = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Disable a login (its tokens stop working at once)."""
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as session:
            row = session.get(UserRow, username)
            if row is None:
                fail(f"no user {username}")
            row.disabled = not enable
    finally:
        store.close()
    console.print(f"{username} {'enabled' if enable else 'disabled'}")


@app.command("list")
def list_users(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """The logins, their roles and grid-worker ids."""
    store = open_store(database_url, data_dir)
    try:
        with store.sessions() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.username)).all()
            table = Table("user", "role", "name", "worker", "disabled")
            for row in rows:
                table.add_row(
                    row.username,
                    row.role,
                    row.display_name,
                    row.worker_id or "",
                    "yes" if row.disabled else "",
                )
    finally:
        store.close()
    console.print(table)
