"""Fuzzing the payload classifier and every registered verifier: nothing raises, ever.

Random text and bytes, and valid codes of every format with random edits, go through
:class:`PayloadClassifier` and then every registered verifier (not only the one the prefix
routes to). Each call must return a :class:`HealthCodeObservation`; an edited code that
still verifies must say exactly what the original said.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.decoders.payloads import HealthCode, PayloadClassifier
from edge.verify.base import VERIFIER_MODULES, HealthCodeVerifier, verifiers
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustStore
from models.events import HealthCodeFormat, HealthCodeObservation, VerificationStatus
from models.trust import IssuerKey
from tests.support.foreign_passes import DccIssuer, ShcIssuerKey, foreign_trust_store, lab_result
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
