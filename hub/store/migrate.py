"""Alembic migrations, run from code: no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from hub.store.db import create_db_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (env.py reads it from ``attributes``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def _with_engine(engine_or_url: Engine | str | URL) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return create_db_engine(engine_or_url), True


def upgrade(engine_or_url: Engine | str | URL, revision: str = "head") -> None:
    """Bring the database's schema up to ``revision`` (the newest by default)."""
    engine, owned = _with_engine(engine_or_url)
    try:
        command.upgrade(alembic_config(engine), revision)
    finally:
        if owned:
            engine.dispose()


def revision(engine_or_url: Engine | str | URL, message: str, *, autogenerate: bool) -> None:
    """Write a new revision file (compared against the tables when ``autogenerate``)."""
    engine, owned = _with_engine(engine_or_url)
    try:
        command.revision(alembic_config(engine), message=message, autogenerate=autogenerate)
    finally:
        if owned:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this build."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
