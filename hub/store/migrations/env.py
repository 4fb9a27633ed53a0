"""Alembic environment: the engine comes from ``config.attributes`` (see hub.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from hub.store.db import create_db_engine
from hub.store.tables import Base


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no engine: run migrations through hub.store.migrate")
    return create_db_engine(url)


def run_migrations_online() -> None:
    """Run the migrations on one connection, in one transaction."""
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
