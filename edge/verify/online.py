"""Verifier of platform health codes (GB/T 38961-2020 style): the issuing platform decides, online.

The QR code is an opaque token; the gate POSTs it to the platform's verify-code API and maps
the JSON answer (colour, last test, doses, the platform's result code) onto a
:class:`HealthCodeObservation`, then applies the site's three-code :class:`CodePolicy`.
Answers are cached briefly per code text, since a code stays in view for many frames. When
the platform cannot answer (timeout, refused, 5xx, an unreadable body) the site's
``on_unreachable`` policy decides: hold for a human, deny, or accept with an alert.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Final

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from edge.verify.base import never_raises
from edge.verify.policy import CodePolicy
from models.events import (
    CodeColour,
    HealthCodeFormat,
    HealthCodeObservation,
    ReasonCode,
    VerificationStatus,
)
from models.identity import mask_name
from models.passes import PassClaims, TestResult, TripRisk

log = logging.getLogger(__name__)

REFUSAL_REASONS: Final = frozenset(
    {ReasonCode.MALFORMED, ReasonCode.UNKNOWN_ISSUER, ReasonCode.EXPIRED, ReasonCode.REVOKED}
)
"""Reason codes a platform's error code may map to."""
MAX_DOSES: Final = 20
MAX_BODY_BYTES: Final = 64 * 1024
"""A longer answer is not a verify-code answer: an outage, read no further."""
_MS_THRESHOLD: Final = 100_000_000_000
"""Epoch numbers above this are milliseconds (seconds reach it in the year 5138)."""


class UnreachablePolicy(StrEnum):
    """What the gate does when the platform cannot answer."""

    HOLD = "hold"
    DENY = "deny"
    ACCEPT_WITH_ALERT = "accept_with_alert"


_OUTAGE_VERDICT: Final[dict[UnreachablePolicy, bool | None]] = {
    UnreachablePolicy.HOLD: None,
    UnreachablePolicy.DENY: False,
    UnreachablePolicy.ACCEPT_WITH_ALERT: True,
}
"""``policy_passed`` of an outage observation; the gate decision reads it."""


def _lower_keys(values: dict[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in values.items()}


class ResponseMapping(BaseModel):
    """Where the facts are in the platform's JSON answer (dotted paths) and what values mean."""

    model_config = ConfigDict(extra="forbid")

    result_code: str | None = Field(
        "code",
        min_length=1,
        title="Result-code path",
        description="The platform's result code; unset: every HTTP 2xx-4xx JSON answer counts.",
    )
    ok_codes: list[str] = Field(
        ["0"], min_length=1, title="Success codes", description="Result codes of a checked code."
    )
    error_reasons: dict[str, ReasonCode] = Field(
        default_factory=dict,
        title="Refusal codes",
        description=(
            "Result codes meaning the platform refuses the code itself (invalid, unknown, "
            "expired, revoked) and the reason each maps to; any other code is an outage."
        ),
    )
    colour: str = Field(
        "data.colour", min_length=1, title="Colour path", description="The code's colour."
    )
    colour_values: dict[str, CodeColour] = Field(
        {
            "0": CodeColour.GREEN,
            "1": CodeColour.YELLOW,
            "2": CodeColour.RED,
            "green": CodeColour.GREEN,
            "yellow": CodeColour.YELLOW,
            "red": CodeColour.RED,
        },
        min_length=1,
        title="Colour values",
        description="Platform colour value (case-insensitive) to colour.",
    )
    holder_name: str | None = Field(
        None, title="Holder-name path", description="Masked at once; never sent on the wire."
    )
    test_time: str | None = Field(
        None,
        title="Last-test time path",
        description="ISO-8601 text, 'YYYY-MM-DD HH:MM:SS', or epoch seconds or milliseconds.",
    )
    test_result: str | None = Field(
        None, title="Last-test result path", description="Read through test_result_values."
    )
    test_result_values: dict[str, TestResult] = Field(
        {
            "0": TestResult.NEGATIVE,
            "negative": TestResult.NEGATIVE,
            "阴性": TestResult.NEGATIVE,
            "1": TestResult.POSITIVE,
            "positive": TestResult.POSITIVE,
            "阳性": TestResult.POSITIVE,
        },
        title="Test-result values",
        description="Platform test result (case-insensitive) to neg / pos.",
    )
    doses: str | None = Field(None, title="Doses path", description="Vaccination doses, 0-20.")
    trip_risk: str | None = Field(
        None, title="Trip-risk path", description="Read through trip_risk_values."
    )
    trip_risk_values: dict[str, TripRisk] = Field(
        {"0": TripRisk.NONE, "1": TripRisk.MEDIUM, "2": TripRisk.HIGH},
        title="Trip-risk values",
        description="Platform trip-risk value (case-insensitive) to none / medium / high.",
    )
    valid_until: str | None = Field(
        None, title="Validity-end path", description="When the platform's answer stops holding."
    )
    naive_utc_offset_h: float = Field(
        8.0,
        ge=-12,
        le=14,
        title="Offset of naive times (h)",
        description="UTC offset of times without one (China Standard Time: 8).",
    )

    @field_validator("colour_values", "test_result_values", "trip_risk_values")
    @classmethod
    def _case_insensitive(cls, values: dict[str, Any]) -> dict[str, Any]:
        return _lower_keys(values)

    @field_validator("error_reasons")
    @classmethod
    def _refusals_only(cls, values: dict[str, ReasonCode]) -> dict[str, ReasonCode]:
        for code, reason in values.items():
            if reason not in REFUSAL_REASONS:
                allowed = ", ".join(sorted(REFUSAL_REASONS))
                raise ValueError(f"result code {code!r} maps to {reason}; use one of {allowed}")
        return values


class OnlineVerifierConfig(BaseModel):
    """The issuing platform's verify-code API and what to do when it cannot answer."""

    model_config = ConfigDict(extra="forbid")

    endpoint: HttpUrl = Field(
        title="Verify-code endpoint", description="URL the code is POSTed to as JSON (https)."
    )
    issuer: str = Field(
        "platform",
        min_length=1,
        max_length=128,
        title="Platform id",
        description="Recorded as the observation's issuer.",
    )
    code_field: str = Field(
        "code", min_length=1, title="Code field", description="Request JSON field of the code."
    )
    extra_fields: dict[str, str] = Field(
        default_factory=dict,
        title="Fixed request fields",
        description="Sent with every request, e.g. appId or scene.",
    )
    app_key_header: str = Field(
        "X-App-Key", min_length=1, title="App-key header", description="Header carrying the key."
    )
    app_key: SecretStr | None = Field(
        None, title="App key", description="The gate's credential at the platform."
    )
    timeout_s: float = Field(
        1.5, gt=0, le=10, title="Timeout (s)", description="A slower answer counts as an outage."
    )
    cache_ttl_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        title="Answer cache (s)",
        description="An answer per code text is reused this long; 0 disables the cache.",
    )
    cache_max_entries: int = Field(
        1024, ge=1, le=100_000, title="Cache size", description="Oldest answers dropped beyond."
    )
    retry_unreachable_s: float = Field(
        5.0,
        ge=0,
        le=300,
        title="Outage retry (s)",
        description="A code the platform could not answer is not asked again for this long.",
    )
    on_unreachable: UnreachablePolicy = Field(
        UnreachablePolicy.HOLD,
        title="When unreachable",
        description="hold (a human decides), deny, or accept_with_alert.",
    )
    response: ResponseMapping = Field(
        default_factory=ResponseMapping,
        title="Response mapping",
        description="Where the facts are in the platform's JSON answer.",
    )


@dataclass(frozen=True)
class PlatformFacts:
    """What the platform says about a code it checked."""

    colour: CodeColour
    name_masked: str = ""
    test_at: datetime | None = None
    test_result: TestResult | None = None
    doses: int = 0
    trip_risk: TripRisk = TripRisk.NONE
    valid_until: datetime | None = None


@dataclass(frozen=True)
class PlatformRefusal:
    """The platform answered that the code itself is bad."""

    reason: ReasonCode
    result_code: str


@dataclass(frozen=True)
class PlatformOutage:
    """The platform gave no usable answer."""

    cause: str


PlatformAnswer = PlatformFacts | PlatformRefusal | PlatformOutage


class BadResponseError(ValueError):
    """The platform's answer cannot be read with the configured mapping."""


class _BodyError(Exception):
    """The answer's body is too large or too slow; an outage."""


def _read_capped(response: httpx.Response, deadline: float) -> bytes:
    """The body, at most :data:`MAX_BODY_BYTES`, read before ``deadline`` (monotonic).

    httpx's timeout bounds each read, not the whole answer: a server dripping a few bytes a
    second would hold the gate for minutes. The deadline is checked after every chunk, so
    the call ends within the timeout plus one read.
    """
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BodyError(f"bad response: body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _BodyError("timeout (the answer came too slowly)")
    return b"".join(chunks)


class OnlineVerifier:
    """Asks the platform (through a short cache), then applies the site's policy."""

    format = HealthCodeFormat.ONLINE

    def __init__(
        self,
        config: OnlineVerifierConfig,
        policy: CodePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.policy = policy or CodePolicy()
        self._clock = clock
        headers = {}
        if config.app_key is not None:
            headers[config.app_key_header] = config.app_key.get_secret_value()
        self._client = httpx.Client(timeout=config.timeout_s, headers=headers)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, PlatformAnswer]] = OrderedDict()
        self.requests = 0
        """Requests sent to the platform."""

    @never_raises
    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """Check a platform code; failures and outages come back as reason codes."""
        answer = self.query(text)
        if isinstance(answer, PlatformOutage):
            return self._observation(
                seen_at,
                VerificationStatus.UNVERIFIED,
                [ReasonCode.PLATFORM_UNREACHABLE],
                policy_passed=_OUTAGE_VERDICT[self.config.on_unreachable],
            )
        if isinstance(answer, PlatformRefusal):
            return self._observation(seen_at, VerificationStatus.INVALID, [answer.reason])
        expired = answer.valid_until is not None and answer.valid_until < seen_at
        return self._observation(
            seen_at,
            VerificationStatus.INVALID if expired else VerificationStatus.VALID,
            [ReasonCode.EXPIRED] if expired else [],
            facts=answer,
            policy_passed=not expired and self.policy.passes(_claims(answer), seen_at),
        )

    def query(self, text: str) -> PlatformAnswer:
        """The platform's answer for ``text``: from the cache, or asked now."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(text)
                return cached[1]
        answer = self._ask(text)
        ttl = (
            self.config.retry_unreachable_s
            if isinstance(answer, PlatformOutage)
            else self.config.cache_ttl_s
        )
        if ttl > 0:
            with self._lock:
                self._cache[text] = (now + ttl, answer)
                self._cache.move_to_end(text)
                while len(self._cache) > self.config.cache_max_entries:
                    self._cache.popitem(last=False)
        return answer

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def _ask(self, text: str) -> PlatformAnswer:
        body = {**self.config.extra_fields, self.config.code_field: text}
        with self._lock:
            self.requests += 1
        deadline = time.monotonic() + self.config.timeout_s
        try:
            with self._client.stream("POST", str(self.config.endpoint), json=body) as response:
                if response.status_code >= 500:
                    return self._outage(f"HTTP {response.status_code}")
                raw = _read_capped(response, deadline)
        except httpx.TimeoutException:
            return self._outage("timeout")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return self._outage(f"unreachable ({type(exc).__name__})")
        except _BodyError as exc:
            return self._outage(str(exc))
        try:
            return read_answer(json.loads(raw), self.config.response)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and BadResponseError
            return self._outage(f"bad response (HTTP {response.status_code}): {exc}")
        except RecursionError:
            return self._outage(f"bad response (HTTP {response.status_code}): nested too deeply")

    def _outage(self, cause: str) -> PlatformOutage:
        log.warning(
            "health-code platform %s gave no answer (%s); site policy: %s",
            self.config.issuer,
            cause,
            self.config.on_unreachable,
        )
        return PlatformOutage(cause)

    def _observation(
        self,
        seen_at: datetime,
        status: VerificationStatus,
        reasons: list[ReasonCode],
        *,
        facts: PlatformFacts | None = None,
        policy_passed: bool | None = False,
    ) -> HealthCodeObservation:
        return HealthCodeObservation(
            format=self.format,
            status=status,
            reason_codes=reasons,
            colour=facts.colour if facts else None,
            issuer=self.config.issuer,
            expires_at=facts.valid_until if facts else None,
            last_test_at=facts.test_at if facts else None,
            policy_passed=policy_passed,
            seen_at=seen_at,
        )


def read_answer(document: object, mapping: ResponseMapping) -> PlatformFacts | PlatformRefusal:
    """Map a platform's JSON answer; :class:`BadResponseError` when it does not fit."""
    if not isinstance(document, dict):
        raise BadResponseError("the answer is not a JSON object")
    if mapping.result_code is not None:
        result = _scalar(document, mapping.result_code)
        if result is None:
            raise BadResponseError(f"no result code at {mapping.result_code!r}")
        if result in mapping.error_reasons:
            return PlatformRefusal(mapping.error_reasons[result], result)
        if result not in mapping.ok_codes:
            raise BadResponseError(f"result code {result!r} is neither success nor a refusal")
    zone = timezone(timedelta(hours=mapping.naive_utc_offset_h))
    return PlatformFacts(
        colour=_required(_mapped(document, mapping.colour, mapping.colour_values), "colour"),
        name_masked=mask_name(_scalar(document, mapping.holder_name) or ""),
        test_at=_time(_value(document, mapping.test_time), zone),
        test_result=_mapped(document, mapping.test_result, mapping.test_result_values),
        doses=_doses(_value(document, mapping.doses)),
        trip_risk=_mapped(document, mapping.trip_risk, mapping.trip_risk_values) or TripRisk.NONE,
        valid_until=_time(_value(document, mapping.valid_until), zone),
    )


def _value(document: dict[str, Any], path: str | None) -> object:
    """The value at a dotted path; None when the path is unset or absent."""
    if not path:
        return None
    node: object = document
    for key in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _scalar(document: dict[str, Any], path: str | None) -> str | None:
    value = _value(document, path)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise BadResponseError(f"{path!r} is not a single value")
    return str(value).strip()


def _mapped(document: dict[str, Any], path: str | None, values: dict[str, Any]) -> Any:
    raw = _scalar(document, path)
    if raw is None or raw == "":
        return None
    if raw.lower() not in values:
        raise BadResponseError(f"unknown value {raw!r} at {path!r}")
    return values[raw.lower()]


def _required(value: CodeColour | None, what: str) -> CodeColour:
    if value is None:
        raise BadResponseError(f"the answer has no {what}")
    return value


def _time(value: object, zone: timezone) -> datetime | None:
    """A platform time in UTC: ISO-8601 text (naive ones in ``zone``) or epoch s / ms."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return datetime.fromtimestamp(value / 1000 if value > _MS_THRESHOLD else value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise BadResponseError(f"unreadable time {str(value)[:40]!r}")


def _doses(value: object) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadResponseError(f"unreadable doses {value!r}")
    try:
        doses = int(value)
    except ValueError:
        raise BadResponseError(f"unreadable doses {value!r}") from None
    if not 0 <= doses <= MAX_DOSES:
        raise BadResponseError(f"doses {doses} out of range")
    return doses


def _claims(facts: PlatformFacts) -> PassClaims:
    """The facts as the pass claims :class:`CodePolicy` judges (identity fields unused)."""
    return PassClaims(
        pass_id="online",  # noqa: S106 - an id, not a secret
        kid="online",
        holder_ref="",
        colour=facts.colour,
        issued_at=0,
        expires_at=0,
        test_at=max(0, int(facts.test_at.timestamp())) if facts.test_at else None,
        test_result=facts.test_result,
        doses=facts.doses,
        trip_risk=facts.trip_risk,
    )
