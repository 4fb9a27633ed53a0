"""Verifier of EU Digital COVID Certificates (``HC1:``), offline, against the trust store.

``HC1:`` → base45 → zlib (inflated at most 64 KiB) → COSE_Sign1 → CWT claims with the
HCERT. The structure is decoded and checked first (every failure is ``malformed``); then,
with the document signer certificate (DSC) found by the 8-byte kid, three independent
checks: the ES256 or PS256 signature, the DSC's key usage for this kind of certificate,
and the validity window (the CWT's issued/expires and the DSC's own). A certificate whose
signature verifies gets a colour from the site's :class:`~edge.verify.colour_rules.DccRules`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from base45 import b45decode  # type: ignore[import-untyped]

from edge.verify.base import verifiers
from edge.verify.colour_rules import CLOCK_SKEW
from edge.verify.cose import (
    SUPPORTED_ALGORITHMS,
    CoseError,
    CoseSign1,
    parse_sign1,
    signature_valid,
)
from edge.verify.dcc_claims import (
    TEST_NOT_DETECTED,
    DccClaims,
    DccClaimsError,
    Hcert,
    TestEntry,
    Vaccination,
    parse_claims,
)
from edge.verify.dcc_signers import DccSignerKey
from edge.verify.inflate import InflateError, inflate
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustStore
from models.events import (
    CodeColour,
    HealthCodeFormat,
    HealthCodeObservation,
    ReasonCode,
    VerificationStatus,
)
from models.passes import PassClaims, TestResult

PREFIX: Final = "HC1:"
MAX_TEXT_CHARS: Final = 8192
"""A QR code holds at most 4,296 alphanumeric characters."""
KID_BYTES: Final = 8
MAX_DOSES: Final = 20
"""The most doses a pass states (``PassClaims.doses``)."""


class DccStage(StrEnum):
    """The checks of an EU DCC, in order."""

    UNPREFIX = "unprefix"
    BASE45 = "base45"
    COMPRESSION = "compression"
    COSE = "cose"
    CLAIMS = "claims"
    SCHEMA = "schema"
    SIGNATURE = "signature"
    KEY_USAGE = "key_usage"
    VALIDITY = "validity"


DECODING_STAGES: Final = (
    DccStage.UNPREFIX,
    DccStage.BASE45,
    DccStage.COMPRESSION,
    DccStage.COSE,
    DccStage.CLAIMS,
    DccStage.SCHEMA,
)


class _RefusedError(Exception):
    def __init__(self, stage: DccStage, reason: ReasonCode = ReasonCode.MALFORMED) -> None:
        self.stage, self.reason = stage, reason


@dataclass
class DccInspection:
    """What each check found: None passed, a reason failed, absent not reached."""

    outcomes: dict[DccStage, ReasonCode | None] = field(default_factory=dict)
    kid: str | None = None
    claims: DccClaims | None = None
    certificate: Hcert | None = None

    def passed(self, stage: DccStage) -> bool | None:
        """True passed, False failed, None not reached."""
        if stage not in self.outcomes:
            return None
        return self.outcomes[stage] is None

    def reasons(self) -> list[ReasonCode]:
        """The reasons of the checks that failed, in order."""
        return [reason for reason in self.outcomes.values() if reason is not None]


@dataclass(frozen=True)
class _Decoded:
    message: CoseSign1
    kid: str
    claims: DccClaims
    certificate: Hcert


def _decode(text: str, report: DccInspection) -> _Decoded:
    """The decoding checks, each recorded as passed; :class:`_RefusedError` at the first failure."""
    if len(text) > MAX_TEXT_CHARS or not text.startswith(PREFIX):
        raise _RefusedError(DccStage.UNPREFIX)
    report.outcomes[DccStage.UNPREFIX] = None
    try:
        compressed = bytes(b45decode(text[len(PREFIX) :]))
    except (ValueError, TypeError):
        raise _RefusedError(DccStage.BASE45) from None
    report.outcomes[DccStage.BASE45] = None
    try:
        cose_bytes = inflate(compressed, raw=False)
    except InflateError:
        raise _RefusedError(DccStage.COMPRESSION) from None
    report.outcomes[DccStage.COMPRESSION] = None
    try:
        message = parse_sign1(cose_bytes)
    except CoseError:
        raise _RefusedError(DccStage.COSE) from None
    if not isinstance(message.kid, bytes) or len(message.kid) != KID_BYTES:
        raise _RefusedError(DccStage.COSE)
    report.kid = base64.b64encode(message.kid).decode("ascii")
    report.outcomes[DccStage.COSE] = None
    try:
        report.claims = claims = parse_claims(message.payload)
        report.outcomes[DccStage.CLAIMS] = None
        report.certificate = certificate = claims.certificate()
    except DccClaimsError as exc:
        raise _RefusedError(DccStage.SCHEMA if exc.schema else DccStage.CLAIMS) from None
    report.outcomes[DccStage.SCHEMA] = None
    return _Decoded(message, report.kid, claims, certificate)


def _validity(claims: DccClaims, signer: DccSignerKey, seen_at: datetime) -> ReasonCode | None:
    """The CWT's window cut to the DSC's own; the code must be signed while the DSC was valid."""
    issued = datetime.fromtimestamp(claims.issued_at, UTC)
    expires = datetime.fromtimestamp(claims.expires_at, UTC)
    if seen_at > min(expires, signer.not_after):
        return ReasonCode.EXPIRED
    if issued < signer.not_before or max(issued - CLOCK_SKEW, signer.not_before) > seen_at:
        return ReasonCode.NOT_YET_VALID
    return None


@verifiers.register("eu_dcc")
class EuDccVerifier:
    """Structure, signer, signature, key usage and validity; then colour and the policy."""

    format = HealthCodeFormat.EU_DCC

    def __init__(self, trust: TrustStore, policy: CodePolicy | None = None) -> None:
        self.trust = trust
        self.policy = policy or CodePolicy()

    def inspect(self, text: str, seen_at: datetime) -> DccInspection:
        """Run every check that applies and record what each found."""
        report = DccInspection()
        try:
            decoded = _decode(text, report)
        except _RefusedError as refused:
            report.outcomes[refused.stage] = refused.reason
            return report
        signer = self.trust.dcc_signer(decoded.kid)
        if signer is None:
            report.outcomes[DccStage.SIGNATURE] = ReasonCode.UNKNOWN_ISSUER
            return report
        if decoded.message.algorithm not in SUPPORTED_ALGORITHMS:
            report.outcomes[DccStage.SIGNATURE] = ReasonCode.UNSUPPORTED
        elif not signature_valid(decoded.message, signer.public_key):
            report.outcomes[DccStage.SIGNATURE] = ReasonCode.BAD_SIGNATURE
        else:
            report.outcomes[DccStage.SIGNATURE] = None
        usable = signer.may_sign(decoded.certificate.kind)
        report.outcomes[DccStage.KEY_USAGE] = None if usable else ReasonCode.UNKNOWN_ISSUER
        report.outcomes[DccStage.VALIDITY] = _validity(decoded.claims, signer, seen_at)
        return report

    def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
        """Check a certificate; failures come back as reason codes."""
        report = self.inspect(text, seen_at)
        claims, certificate = report.claims, report.certificate
        if report.passed(DccStage.SIGNATURE) is not True or claims is None or certificate is None:
            reason = (report.reasons() or [ReasonCode.MALFORMED])[0]
            unverified = reason is ReasonCode.UNSUPPORTED
            return HealthCodeObservation(
                format=self.format,
                status=VerificationStatus.UNVERIFIED if unverified else VerificationStatus.INVALID,
                reason_codes=[reason],
                issuer=report.kid,
                policy_passed=False,
                seen_at=seen_at,
            )
        reasons = report.reasons()
        colour = self.policy.dcc.colour(certificate, seen_at)
        facts = _policy_facts(claims, certificate, colour)
        return HealthCodeObservation(
            format=self.format,
            status=VerificationStatus.INVALID if reasons else VerificationStatus.VALID,
            reason_codes=reasons,
            colour=colour,
            issuer=report.kid,
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
            last_test_at=(
                datetime.fromtimestamp(facts.test_at, UTC) if facts.test_at is not None else None
            ),
            policy_passed=not reasons and self.policy.passes(facts, seen_at),
            seen_at=seen_at,
        )


def _policy_facts(claims: DccClaims, certificate: Hcert, colour: CodeColour) -> PassClaims:
    """The certificate as the pass claims :class:`CodePolicy` judges (identity fields unused)."""
    entry = certificate.entry
    test = entry if isinstance(entry, TestEntry) else None
    result = None
    if test is not None and test.detected:
        result = TestResult.POSITIVE
    elif test is not None and test.tr == TEST_NOT_DETECTED:
        result = TestResult.NEGATIVE
    return PassClaims(
        pass_id="eu_dcc",  # noqa: S106 - an id, not a secret
        kid="eu_dcc",
        holder_ref="",
        colour=colour,
        issued_at=claims.issued_at,
        expires_at=claims.expires_at,
        test_at=max(0, int(test.sc.timestamp())) if test is not None else None,
        test_result=result,
        doses=min(entry.dn, MAX_DOSES) if isinstance(entry, Vaccination) else 0,
    )
