"""The claims of an EU DCC: the CWT (issuer, issued, expires) and the HCERT it carries.

The HCERT models hold what a gate needs (the EU schema has more, and is not re-checked
field by field); unknown fields are ignored, since a foreign issuer may add its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from edge.verify.cbor_guard import CborError, loads

CLAIM_ISSUER, CLAIM_EXPIRES, CLAIM_ISSUED, CLAIM_HCERT = 1, 4, 6, -260
DATE_TAGS: Final = (0, 1, 100, 1004)
"""Date and time tags an issuer may use inside the claims (RFC 8949, RFC 8943)."""
MAX_EPOCH: Final = 253_402_300_799
"""9999-12-31T23:59:59Z: later times cannot be represented."""
TEST_DETECTED: Final = "260373001"
TEST_NOT_DETECTED: Final = "260415000"
RAPID_TEST: Final = "LP217198-3"


class DccClaimsError(ValueError):
    """The COSE payload is not a CWT with an HCERT (``schema``: the HCERT is malformed)."""

    def __init__(self, message: str, *, schema: bool = False) -> None:
        super().__init__(message)
        self.schema = schema


class CertificateKind(StrEnum):
    """The one kind of statement a DCC makes; the keys of the HCERT."""

    VACCINATION = "v"
    TEST = "t"
    RECOVERY = "r"


def _utc(value: object) -> object:
    """Naive times are UTC; date-only values are midnight UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _day(value: object) -> object:
    """A date from a date, a datetime, or ISO text with an optional time part."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) > 10:
        return value[:10]
    return value


UtcTime = Annotated[datetime, BeforeValidator(_utc)]
Day = Annotated[date, BeforeValidator(_day)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Vaccination(_Entry):
    """One vaccination statement."""

    dn: int = Field(ge=1, le=99, description="Number of this dose.")
    sd: int = Field(ge=1, le=99, description="Doses in the series.")
    dt: Day = Field(description="Date of vaccination.")


class TestEntry(_Entry):
    """One test statement."""

    __test__ = False  # not a pytest test class
    tt: str = Field(max_length=64, description="Test type (LOINC).")
    sc: UtcTime = Field(description="Sample collection time.")
    tr: str = Field(max_length=64, description="Result (SNOMED CT).")

    @property
    def detected(self) -> bool:
        """The test was positive."""
        return self.tr == TEST_DETECTED


class Recovery(_Entry):
    """One recovery statement."""

    fr: Day = Field(description="First positive test.")
    df: Day = Field(description="Valid from.")
    du: Day = Field(description="Valid until.")


class Hcert(BaseModel):
    """The health certificate: exactly one kind of statement, with exactly one entry."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ver: str = Field(min_length=1, max_length=16, description="Schema version.")
    nam: dict[str, Any] = Field(description="Names (not used by the gate).")
    dob: str = Field(max_length=32, description="Date of birth (not used by the gate).")
    v: Annotated[list[Vaccination], Field(min_length=1, max_length=1)] | None = None
    t: Annotated[list[TestEntry], Field(min_length=1, max_length=1)] | None = None
    r: Annotated[list[Recovery], Field(min_length=1, max_length=1)] | None = None

    @model_validator(mode="after")
    def _one_statement(self) -> Hcert:
        if sum(entries is not None for entries in (self.v, self.t, self.r)) != 1:
            raise ValueError("an HCERT holds exactly one of v, t or r")
        return self

    @property
    def kind(self) -> CertificateKind:
        """Which statement this certificate makes."""
        if self.v:
            return CertificateKind.VACCINATION
        return CertificateKind.TEST if self.t else CertificateKind.RECOVERY

    @property
    def entry(self) -> Vaccination | TestEntry | Recovery:
        """The one statement."""
        entries: Sequence[Vaccination | TestEntry | Recovery] = self.v or self.t or self.r or []
        return entries[0]


@dataclass(frozen=True)
class DccClaims:
    """The CWT claims around the HCERT."""

    issuer: str | None
    """Issuing country (claim 1)."""
    issued_at: int
    """Claim 6, Unix seconds."""
    expires_at: int
    """Claim 4, Unix seconds."""
    hcert: dict[str, Any]
    """The HCERT (claim -260, key 1) as plain dicts and lists."""

    def certificate(self) -> Hcert:
        """The HCERT checked against :class:`Hcert`; :class:`DccClaimsError` (``schema``)."""
        try:
            return Hcert.model_validate(self.hcert)
        except ValidationError as exc:
            raise DccClaimsError(f"HCERT: {str(exc).splitlines()[0]}", schema=True) from None


def plain(value: object) -> Any:
    """cbor2's immutable containers as dicts and lists (depth is bounded by the guard)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(item) for item in value]
    return value


def _epoch(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DccClaimsError(f"claim {name} is not a number")
    if not 0 <= value <= MAX_EPOCH:
        raise DccClaimsError(f"claim {name} is out of range")
    return int(value)


def parse_claims(payload: bytes) -> DccClaims:
    """Decode the COSE payload into :class:`DccClaims`; :class:`DccClaimsError`."""
    try:
        cwt = loads(payload, allowed_tags=DATE_TAGS)
    except CborError as exc:
        raise DccClaimsError(str(exc)) from None
    if not isinstance(cwt, Mapping):
        raise DccClaimsError("the CWT is not a map")
    wrapper = cwt.get(CLAIM_HCERT)
    if not isinstance(wrapper, Mapping) or len(wrapper) != 1 or 1 not in wrapper:
        raise DccClaimsError("claim -260 does not hold one HCERT under key 1")
    hcert = wrapper[1]
    if not isinstance(hcert, Mapping) or not all(isinstance(k, str) for k in hcert):
        raise DccClaimsError("the HCERT is not a map with text keys")
    issuer = cwt.get(CLAIM_ISSUER)
    if issuer is not None and not isinstance(issuer, str):
        raise DccClaimsError("claim 1 (issuer) is not text")
    return DccClaims(
        issuer=issuer[:64] if issuer else None,
        issued_at=_epoch(cwt.get(CLAIM_ISSUED), "6 (issued at)"),
        expires_at=_epoch(cwt.get(CLAIM_EXPIRES), "4 (expires)"),
        hcert=plain(hcert),
    )
