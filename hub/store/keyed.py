"""A filter by a list of keys that PostgreSQL can prepare once.

``column IN (:k1, :k2, ...)`` is rendered again for every list length, so on PostgreSQL the
driver parses new SQL text for each batch and the server never reuses a plan.
``column = ANY(:keys)`` binds the whole list as one array: one text, parsed once and
prepared by the server after a few runs. SQLite has no arrays and keeps the ``IN``.
Statements using :func:`keys_in` are still built once and cached per dialect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, Boolean, any_, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


class KeysIn(ColumnElement[bool]):
    """``column`` is one of the list bound as ``name`` (see the module)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no ``= 1`` appended where booleans are ints
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 - SQLAlchemy's own form
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


def keys_in(column: Any, name: str = "keys") -> KeysIn:
    """Filter ``column`` by the list of keys passed as parameter ``name``."""
    return KeysIn(column, name)


@compiles(KeysIn)
def _expanding_in(element: KeysIn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(KeysIn, "postgresql")
def _equals_any(element: KeysIn, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)
