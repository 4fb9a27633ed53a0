"""Throw-away PostgreSQL databases and schemas for tests and benchmarks.

``GRIDGATE_TEST_POSTGRES_URL`` names a server and a database to connect to as a user
allowed to create databases, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from hub.store.db import normalise_url

ENV_VAR = "GRIDGATE_TEST_POSTGRES_URL"


class PostgresUnavailableError(RuntimeError):
    """No usable PostgreSQL server for the tests: the message says why."""


def admin_url() -> URL:
    """The configured server URL; raises :class:`PostgresUnavailableError` if unusable."""
    raw = os.environ.get(ENV_VAR)
    if not raw:
        raise PostgresUnavailableError(
            f"{ENV_VAR} is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    url = normalise_url(raw)
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise PostgresUnavailableError(
            f"PostgreSQL at {ENV_VAR}={url.render_as_string(hide_password=True)} "
            f"is unreachable: {type(exc).__name__}"
        ) from None
    finally:
        engine.dispose()
    return url


@contextmanager
def temporary_database(server: URL, prefix: str = "gridgate_test") -> Iterator[URL]:
    """A fresh, empty database on ``server``, dropped afterwards (even if still connected)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def temporary_schema(database: URL) -> Iterator[URL]:
    """A fresh schema in ``database``; the URL yielded makes it the search path."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        try:
            yield database.update_query_dict({"options": f"-csearch_path={name}"})
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        admin.dispose()
