"""Routing of decoded QR payloads: door plate, health code, or unknown. Never raises.

Only routing: a health code is recognised by its prefix (a platform code by one of the
site's ``platform_patterns``) and handed on with its raw text; verifying it is the
health-code verifier's job.

>>> classifier = PayloadClassifier()
>>> classifier.classify("GGDP1:310101001001")
DoorPlate(address_code='310101001001', form='ggdp1')
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models import HealthCodeFormat

ADDRESS_CODE_RE: Final = re.compile(r"[0-9A-Za-z_-]{4,64}")
"""``DoorPlateObservation.address_code`` (matched in full)."""

PLATE_PREFIX: Final = "GGDP1:"
PLATE_URL_RE: Final = re.compile(
    r"https?://(?P<host>[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?)/a/(?P<code>[^/?#]*)/?",
    re.IGNORECASE,
)
HEALTH_PREFIXES: Final = (
    ("GGHC1:", HealthCodeFormat.GRIDGATE),
    ("HC1:", HealthCodeFormat.EU_DCC),
    ("shc:/", HealthCodeFormat.SMART_HEALTH_CARD),
)
MAX_PLATFORM_PATTERNS: Final = 16
MAX_PATTERN_CHARS: Final = 256
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0/C1 control characters and lone surrogates: never part of a routable payload."""


class UnknownReason(StrEnum):
    """Why a payload was not routed."""

    EMPTY = "empty"
    OVERSIZE = "oversize"
    NOT_UTF8 = "not_utf8"
    CONTROL_CHARACTERS = "control_characters"
    BAD_ADDRESS_CODE = "bad_address_code"
    FOREIGN_HOST = "foreign_host"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True)
class DoorPlate:
    """A standard-address door plate; ``form`` names the format that matched."""

    address_code: str
    form: str


@dataclass(frozen=True)
class HealthCode:
    """A health code to verify: its format (by prefix) and the full text."""

    format: HealthCodeFormat
    text: str


@dataclass(frozen=True)
class Unknown:
    """Anything else, with the reason."""

    reason: UnknownReason


Classified = DoorPlate | HealthCode | Unknown


class PayloadConfig(BaseModel):
    """How decoded QR payloads are routed at this site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plate_patterns: list[str] = Field(
        default_factory=list,
        title="Local door-plate patterns",
        description=(
            "Regular expressions for local plate formats, matched against the whole payload; "
            "each needs a named group 'code' holding the standard-address code."
        ),
    )
    plate_hosts: list[str] = Field(
        default_factory=list,
        title="Door-plate URL hosts",
        description=(
            "Hosts accepted in http(s)://<host>/a/<code> plate URLs (with ':port' if any, "
            "case-insensitive); empty accepts any host."
        ),
    )
    platform_patterns: list[str] = Field(
        default_factory=list,
        max_length=MAX_PLATFORM_PATTERNS,
        title="Platform health-code patterns",
        description=(
            "Regular expressions (at most 256 characters each) for codes the issuing "
            "platform verifies online, matched against the whole payload."
        ),
    )
    max_bytes: int = Field(
        8192,
        ge=16,
        le=65536,
        title="Largest payload",
        description="Payloads longer than this many UTF-8 bytes are refused unread.",
    )

    @field_validator("plate_patterns")
    @classmethod
    def _patterns_have_code_group(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
            if "code" not in compiled.groupindex:
                raise ValueError(f"pattern {pattern!r} has no named group 'code'")
        return patterns

    @field_validator("platform_patterns")
    @classmethod
    def _platform_patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if len(pattern) > MAX_PATTERN_CHARS:
                raise ValueError(f"pattern {pattern[:40]!r}… is longer than {MAX_PATTERN_CHARS}")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns


class PayloadClassifier:
    """Classifies payloads per a :class:`PayloadConfig` and counts the outcomes."""

    def __init__(self, config: PayloadConfig | None = None) -> None:
        self.config = config or PayloadConfig()
        self._patterns = [re.compile(p) for p in self.config.plate_patterns]
        self._hosts = {h.lower() for h in self.config.plate_hosts}
        self._platform = [re.compile(p) for p in self.config.platform_patterns]
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def classify(self, payload: str | bytes) -> Classified:
        """Route one payload (``QrSymbol.payload``); bad input yields :class:`Unknown`."""
        result = self._classify(payload)
        if isinstance(result, Unknown):
            key = f"unknown.{result.reason}"
        else:
            key = "door_plate" if isinstance(result, DoorPlate) else "health_code"
        with self._lock:
            self._counts[key] += 1
        return result

    def counts(self) -> dict[str, int]:
        """Outcomes so far: ``door_plate``, ``health_code`` and ``unknown.<reason>``."""
        with self._lock:
            return dict(self._counts)

    def _classify(self, payload: str | bytes) -> Classified:
        text = self._text(payload)
        if isinstance(text, Unknown):
            return text
        for prefix, fmt in HEALTH_PREFIXES:
            if text.startswith(prefix):
                return HealthCode(fmt, text)
        if any(pattern.fullmatch(text) for pattern in self._platform):
            return HealthCode(HealthCodeFormat.ONLINE, text)
        if text.startswith(PLATE_PREFIX):
            return _plate(text[len(PLATE_PREFIX) :], "ggdp1")
        if url := PLATE_URL_RE.fullmatch(text):
            if self._hosts and url["host"].lower() not in self._hosts:
                return Unknown(UnknownReason.FOREIGN_HOST)
            return _plate(url["code"], "url")
        for index, pattern in enumerate(self._patterns):
            if local := pattern.fullmatch(text):
                return _plate(local["code"] or "", f"pattern{index}")
        return Unknown(UnknownReason.UNRECOGNISED)

    def _text(self, payload: str | bytes) -> str | Unknown:
        """The payload as clean text, or why not."""
        limit = self.config.max_bytes
        if len(payload) > limit:  # a str of more characters than bytes allowed is too long
            return Unknown(UnknownReason.OVERSIZE)
        if isinstance(payload, str):
            if len(payload.encode("utf-8", "surrogatepass")) > limit:
                return Unknown(UnknownReason.OVERSIZE)
            text = payload
        else:
            try:
                text = bytes(payload).decode("utf-8")
            except UnicodeDecodeError:
                return Unknown(UnknownReason.NOT_UTF8)
        # A byte-order mark or a trailing line break is encoder noise; spaces are not
        # (a trailing space is valid base45 in an EU DCC).
        text = text.removeprefix("\ufeff").rstrip("\r\n")
        if not text.strip():
            return Unknown(UnknownReason.EMPTY)
        if _CONTROL_RE.search(text):
            return Unknown(UnknownReason.CONTROL_CHARACTERS)
        return text


def _plate(code: str, form: str) -> DoorPlate | Unknown:
    code = code.strip()
    if ADDRESS_CODE_RE.fullmatch(code):
        return DoorPlate(code, form)
    return Unknown(UnknownReason.BAD_ADDRESS_CODE)
