"""Encoding and decoding of wire messages, with one typed error for every kind of bad payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from models.base import SCHEMA_VERSION, WireModel

MAX_PAYLOAD_BYTES = 256 * 1024
"""Largest payload accepted on any topic; an event with a configured JPEG crop fits easily."""

M = TypeVar("M", bound=WireModel)


@dataclass(frozen=True)
class FieldError:
    """One problem at one place in a payload, e.g. ``observations.0.encoding``."""

    path: str
    message: str


class ContractError(ValueError):
    """A payload that is not a valid message of the expected type.

    ``kind`` tells the class of fault: ``oversize``, ``encoding`` (not UTF-8), ``json``
    (not JSON or truncated), ``schema_version`` (a version this build does not speak) or
    ``validation`` (wrong fields or types). ``errors`` name the field paths.
    """

    def __init__(self, model: str, kind: str, errors: list[FieldError]) -> None:
        self.model = model
        self.kind = kind
        self.errors = errors
        details = "; ".join(f"{e.path or '<payload>'}: {e.message}" for e in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid {model} payload ({kind}): {details}{more}")

    @property
    def paths(self) -> list[str]:
        """The field paths that failed, in order."""
        return [e.path for e in self.errors]


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def decode(model: type[M], payload: bytes | str, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> M:
    """Parse and validate ``payload`` as ``model``; raise :class:`ContractError` on any fault."""
    name = model.__name__
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if len(raw) > max_bytes:
        raise ContractError(
            name, "oversize", [FieldError("", f"{len(raw)} bytes exceeds the {max_bytes} limit")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(
            name, "encoding", [FieldError("", f"not UTF-8 at byte {exc.start}")]
        ) from None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise _contract_error(name, exc) from None


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Each problem of a pydantic validation error, with its dotted field path."""
    return [FieldError(_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)]


def _contract_error(name: str, exc: ValidationError) -> ContractError:
    errors = field_errors(exc)
    types = {e["type"] for e in exc.errors(include_url=False)}
    if "json_invalid" in types or "json_type" in types:
        return ContractError(name, "json", errors)
    version_errors = [e for e in errors if e.path == "schema_version"]
    if version_errors:
        return ContractError(
            name,
            "schema_version",
            [FieldError("schema_version", f"this build speaks version {SCHEMA_VERSION} only")],
        )
    return ContractError(name, "validation", errors)


def encode(message: WireModel) -> bytes:
    """Serialise a message to compact UTF-8 JSON."""
    return message.model_dump_json(exclude_none=False).encode()
