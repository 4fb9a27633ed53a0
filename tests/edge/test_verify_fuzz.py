"""Fuzzing the payload classifier and every registered verifier: nothing raises, ever.

Random text and bytes, and valid codes of every format with random edits, go through
:class:`PayloadClassifier` and then every registered verifier (not only the one the prefix
routes to). Each call must return a :class:`HealthCodeObservation`; an edited code that
still verifies must say exactly what the original said. Structured inputs get past the
outer layers: the right prefix and well-formed base64url / numeric encodings around
JSON-ish and deeply nested bodies; the online verifier reads fuzzed platform answers
(``httpx.MockTransport``); and the registry's guard turns an escaping exception into
``malformed``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.decoders.payloads import HealthCode, PayloadClassifier
from edge.verify.base import VERIFIER_MODULES, HealthCodeVerifier, VerifierRegistry, verifiers
from edge.verify.online import MAX_BODY_BYTES, OnlineVerifier, OnlineVerifierConfig
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustStore
from models.events import HealthCodeFormat, HealthCodeObservation, ReasonCode, VerificationStatus
from models.trust import IssuerKey
from tests.support.foreign_passes import (
    DccIssuer,
    ShcIssuerKey,
    b64url,
    deflate_raw,
    foreign_trust_store,
    lab_result,
    numeric,
)
from tests.support.passes import Issuer

NOW = datetime.now(UTC)
GRIDGATE, DCC, RSA_DCC, SHC = Issuer(), DccIssuer(), DccIssuer.rsa(), ShcIssuerKey()
VALID_CODES = (
    GRIDGATE.issue(),
    DCC.issue(lab_result(NOW - timedelta(hours=3))),
    RSA_DCC.issue(lab_result(NOW - timedelta(hours=3), detected=True)),
    SHC.issue(doses=2, rid="abc"),
)
CLASSIFIER = PayloadClassifier()


def _verifiers() -> dict[HealthCodeFormat, HealthCodeVerifier]:
    trust = foreign_trust_store([DCC, RSA_DCC], [SHC])
    assert trust.document is not None
    issuer = IssuerKey(kid=GRIDGATE.kid, public_key_pem=GRIDGATE.public_pem())
    store = TrustStore()
    store.replace(trust.document.model_copy(update={"issuers": [issuer]}))
    verifiers.load(VERIFIER_MODULES)
    return {
        HealthCodeFormat(name): verifiers.create(name, store, CodePolicy())
        for name in verifiers.factories(VERIFIER_MODULES)
    }


VERIFIERS = _verifiers()


def _originals() -> dict[str, HealthCodeObservation]:
    results = {}
    for code in VALID_CODES:
        routed = CLASSIFIER.classify(code)
        assert isinstance(routed, HealthCode)
        results[code] = VERIFIERS[routed.format].verify(code, NOW)
    return results


ORIGINALS = _originals()


def _check_everywhere(payload: str | bytes) -> None:
    routed = CLASSIFIER.classify(payload)
    texts = [routed.text] if isinstance(routed, HealthCode) else []
    if isinstance(payload, str):
        texts.append(payload)
    for text in texts:
        for fmt, verifier in VERIFIERS.items():
            result = verifier.verify(text, NOW)
            assert isinstance(result, HealthCodeObservation)
            assert result.format is fmt


def test_every_format_is_registered_and_the_originals_verify() -> None:
    assert set(VERIFIERS) == {
        HealthCodeFormat.GRIDGATE,
        HealthCodeFormat.EU_DCC,
        HealthCodeFormat.SMART_HEALTH_CARD,
    }
    assert len(ORIGINALS) == len(VALID_CODES)
    assert all(r.status is VerificationStatus.VALID for r in ORIGINALS.values())


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400)))
def test_random_payloads_never_raise(payload: str | bytes) -> None:
    _check_everywhere(payload)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["HC1:", "shc:/", "GGHC1:", "shc:/1/2/"]),
    st.one_of(
        st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=600),
        st.text(alphabet="0123456789", max_size=1200),
    ),
)
def test_prefixed_noise_never_raises(prefix: str, body: str) -> None:
    _check_everywhere(prefix + body)


def _mutate(code: str, data: st.DataObject) -> str:
    chars = list(code)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(chars)), label="position")
        edit = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        new = data.draw(st.characters(codec="ascii"), label="char")
        if edit == "replace" and at < len(chars):
            chars[at] = new
        elif edit == "insert":
            chars.insert(at, new)
        elif edit == "delete" and at < len(chars):
            del chars[at]
        elif edit == "truncate":
            del chars[at:]
    return "".join(chars)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID_CODES), st.data())
def test_edited_valid_codes_never_raise_nor_verify_differently(
    code: str, data: st.DataObject
) -> None:
    edited = _mutate(code, data)
    _check_everywhere(edited)
    routed = CLASSIFIER.classify(edited)
    if isinstance(routed, HealthCode):
        result = VERIFIERS[routed.format].verify(routed.text, NOW)
        if result.status is VerificationStatus.VALID:
            original = ORIGINALS[code]
            assert (result.format, result.colour, result.expires_at, result.issuer) == (
                original.format,
                original.colour,
                original.expires_at,
                original.issuer,
            )


# --- structured fuzzing: the right prefix, well-formed encodings, JSON-ish bodies ----------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from([*"ikhncd", "iat", "exp", "ta", "tr", "r", "x"]), children
        )
    ),
    max_leaves=20,
)
"""JSON values whose keys are often a pass's (short aliases) or a card's."""


def _deep(depth: int, opener: bytes = b"[") -> bytes:
    closer = {b"[": b"]", b"{": b"}"}[opener]
    inner = b'"a":' if opener == b"{" else b""
    return (opener + inner) * depth + b"0" + closer * depth


JSON_BODIES = st.one_of(
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.builds(_deep, st.integers(1, 3000), st.sampled_from([b"[", b"{"])),
    st.binary(max_size=200),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_BODIES, st.binary(max_size=80))
def test_gridgate_tokens_with_any_json_payload_never_raise(body: bytes, signature: bytes) -> None:
    token = f"GGHC1:{b64url(body)}.{b64url(signature)}"
    _check_everywhere(token)
    assert VERIFIERS[HealthCodeFormat.GRIDGATE].verify(token, NOW).status is not (
        VerificationStatus.VALID
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_BODIES, JSON_VALUES, st.booleans())
def test_smart_cards_with_any_json_payload_never_raise(
    body: bytes, header: object, good_header: bool
) -> None:
    head = {"zip": "DEF", "alg": "ES256", "kid": SHC.kid} if good_header else header
    card = numeric(f"{b64url(json.dumps(head).encode())}.{b64url(deflate_raw(body))}.AAAA")
    _check_everywhere(card)


@pytest.mark.parametrize("depth", [1200, 5000, 30_000])
@pytest.mark.parametrize("opener", [b"[", b"{"])
def test_deeply_nested_json_is_malformed_in_every_format(depth: int, opener: bytes) -> None:
    body = _deep(depth, opener)
    codes = {
        HealthCodeFormat.GRIDGATE: f"GGHC1:{b64url(body)}.AAAA",
        HealthCodeFormat.SMART_HEALTH_CARD: numeric(
            f"{b64url(json.dumps({'zip': 'DEF', 'alg': 'ES256', 'kid': SHC.kid}).encode())}"
            f".{b64url(deflate_raw(body))}.AAAA"
        ),
    }
    for fmt, text in codes.items():
        result = VERIFIERS[fmt].verify(text, NOW)
        assert (result.status, result.reason_codes) == (
            VerificationStatus.INVALID,
            [ReasonCode.MALFORMED],
        ), (fmt, len(text))


# --- the guard: no registered verifier lets an exception out -----------------------------------


@pytest.mark.allow_logged_exceptions
def test_a_registered_verifier_that_raises_answers_malformed_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = VerifierRegistry("test verifier")

    @registry.register("gridgate")
    class Broken:
        format = HealthCodeFormat.GRIDGATE

        def __init__(self, trust: TrustStore, policy: CodePolicy) -> None:
            self.calls = 0

        def verify(self, text: str, seen_at: datetime) -> HealthCodeObservation:
            self.calls += 1
            raise RecursionError("maximum recursion depth exceeded") if text else KeyError(text)

    verifier = registry.create("gridgate", TrustStore(), CodePolicy())
    with caplog.at_level(logging.DEBUG, logger="edge.verify.base"):
        results = [verifier.verify(text, NOW) for text in ("GGHC1:x", "GGHC1:y", "")]
    assert [(r.format, r.status, r.reason_codes) for r in results] == 3 * [
        (HealthCodeFormat.GRIDGATE, VerificationStatus.INVALID, [ReasonCode.MALFORMED])
    ]
    assert isinstance(verifier, Broken) and verifier.calls == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        "health-code verifier Broken raised RecursionError; answering malformed",
        "health-code verifier Broken raised KeyError; answering malformed",
    ]
    assert all(getattr(type(v).verify, "__never_raises__", False) for v in VERIFIERS.values())
    assert getattr(OnlineVerifier.verify, "__never_raises__", False)


# --- the online verifier over fuzzed platform answers ------------------------------------------


class FuzzedPlatform:
    """An httpx transport answering each request with the answer the example set."""

    def __init__(self) -> None:
        self.status, self.body = 200, b""
        self.transport = httpx.MockTransport(
            lambda _: httpx.Response(self.status, content=self.body)
        )


PLATFORM = FuzzedPlatform()
ONLINE_VERIFIER = OnlineVerifier(
    OnlineVerifierConfig(
        endpoint="https://platform.invalid/verify", cache_ttl_s=0, retry_unreachable_s=0
    )
)
ONLINE_VERIFIER._client = httpx.Client(
    transport=PLATFORM.transport
)  # one client: examples are fast


def _answer_bodies() -> st.SearchStrategy[bytes]:
    envelopes = st.fixed_dictionaries(
        {"code": st.sampled_from(["0", "1001", "9", 0]), "data": JSON_VALUES}
    ).map(lambda value: json.dumps(value).encode())
    huge = st.integers(65_000, 70_000).map(lambda n: b'{"code":"0","p":"' + b"x" * n + b'"}')
    return st.one_of(envelopes, JSON_BODIES, huge)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_answer_bodies(), st.sampled_from([200, 200, 400, 404, 500, 503]))
def test_the_online_verifier_reads_any_answer_without_raising(body: bytes, status: int) -> None:
    PLATFORM.status, PLATFORM.body = status, body
    result = ONLINE_VERIFIER.verify("CODE-1", NOW)
    assert result.format is HealthCodeFormat.ONLINE
    if len(body) > MAX_BODY_BYTES or status >= 500:
        assert result.reason_codes == [ReasonCode.PLATFORM_UNREACHABLE]
    if result.status is VerificationStatus.VALID:
        assert result.colour is not None
