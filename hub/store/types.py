"""Column types shared by the tables and the migrations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

JSONDocument: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL."""

JSONText: TypeEngine[Any] = JSON()
"""JSON kept as its text on both (PostgreSQL ``json``): for documents written whole and read
whole, such as an event as it arrived. ``jsonb`` converts every number on the way in, and a
passage carries 128 per face: measured, ``json`` takes 0.05 ms per event where ``jsonb`` takes
0.12 ms of the server."""


class RawJSON(str):
    """A JSON document already serialised (e.g. by pydantic): written to JSON columns as is."""

    __slots__ = ()


def json_serializer(value: Any) -> str:
    """The engines' JSON serializer: :class:`RawJSON` passes through, the rest is dumped."""
    if isinstance(value, RawJSON):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: ``timestamptz`` on PostgreSQL, naive UTC on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
