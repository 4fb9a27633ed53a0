"""gridgate's signed passes: every kind of good and bad pass, verified offline."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.verify.gridgate import GridgateVerifier
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustStore
from models.events import CodeColour, HealthCodeObservation, ReasonCode, VerificationStatus
from models.passes import PassFormatError, TripRisk, parse_pass
from models.trust import (
    IssuerKey,
    SignedTrustList,
    TrustListDocument,
    TrustListSignatureError,
    sign_trust_list,
)
from tests.support.passes import Issuer, trust_store

ISSUER = Issuer()
NOW = datetime.now(UTC)


def _verify(
    token: str, store: TrustStore | None = None, policy: CodePolicy | None = None
) -> HealthCodeObservation:
    verifier = GridgateVerifier(store or trust_store(ISSUER), policy)
    return verifier.verify(token, datetime.now(UTC))


def test_valid_green_pass() -> None:
    result = _verify(ISSUER.issue())
    assert result.status is VerificationStatus.VALID
    assert result.colour is CodeColour.GREEN
    assert result.reason_codes == []
    assert result.policy_passed is True
    assert result.holder_ref == "h1:testholder000000000000000000"


def test_valid_red_pass_is_valid_but_fails_policy() -> None:
    result = _verify(ISSUER.issue(CodeColour.RED))
    assert (result.status, result.colour, result.policy_passed) == (
        VerificationStatus.VALID,
        CodeColour.RED,
        False,
    )


def test_tampered_payload_has_a_bad_signature() -> None:
    token = ISSUER.issue(CodeColour.RED)
    payload, signature = token.removeprefix("GGHC1:").rsplit(".", 1)
    green = ISSUER.issue(CodeColour.GREEN)
    green_payload = green.removeprefix("GGHC1:").rsplit(".", 1)[0]
    forged = f"GGHC1:{green_payload}.{signature}"
    assert payload != green_payload
    assert _verify(forged).reason_codes == [ReasonCode.BAD_SIGNATURE]


def test_pass_signed_by_another_key_under_a_trusted_kid() -> None:
    impostor = Issuer(kid=ISSUER.kid)
    result = _verify(impostor.issue())
    assert result.status is VerificationStatus.INVALID
    assert result.reason_codes == [ReasonCode.BAD_SIGNATURE]


def test_unknown_issuer() -> None:
    result = _verify(Issuer(kid="somebody-else").issue())
    assert result.reason_codes == [ReasonCode.UNKNOWN_ISSUER]


def test_expired_not_yet_valid_and_revoked() -> None:
    expired = ISSUER.issue(valid_from=time.time() - 7200, valid_for_s=3600)
    assert _verify(expired).reason_codes == [ReasonCode.EXPIRED]
    future = ISSUER.issue(valid_from=time.time() + 3600)
    assert _verify(future).reason_codes == [ReasonCode.NOT_YET_VALID]
    revoked_store = trust_store(ISSUER, revoked=("p-0042",))
    result = _verify(ISSUER.issue(pass_id="p-0042"), revoked_store)
    assert result.reason_codes == [ReasonCode.REVOKED]
    assert result.policy_passed is False


@pytest.mark.parametrize(
    "text",
    [
        "",
        "GGHC1:",
        "GGHC1:abc",
        "GGHC1:abc.def",
        "GGHC1:!!!.???",
        "GGHC1:" + "A" * 5000,
        "GGHC1:e30.AAAA",  # {} : missing claims
        "GGHC1:W10.AAAA",  # [] : not an object
    ],
)
def test_malformed_tokens(text: str) -> None:
    assert _verify(text).reason_codes == [ReasonCode.MALFORMED]


@pytest.mark.parametrize("cut", [10, 40, -10, -1])
def test_truncated_tokens_are_rejected(cut: int) -> None:
    result = _verify(ISSUER.issue()[:cut])
    assert result.status is VerificationStatus.INVALID
    assert result.reason_codes[0] in {ReasonCode.MALFORMED, ReasonCode.BAD_SIGNATURE}


def test_three_code_policy() -> None:
    checkpoint = CodePolicy(max_test_age_h=48, max_trip_risk=TripRisk.MEDIUM)
    assert _verify(ISSUER.issue(test_age_h=12), policy=checkpoint).policy_passed is True
    assert _verify(ISSUER.issue(test_age_h=60), policy=checkpoint).policy_passed is False
    assert _verify(ISSUER.issue(test_age_h=None), policy=checkpoint).policy_passed is False
    high = ISSUER.issue(trip_risk=TripRisk.HIGH)
    assert _verify(high, policy=checkpoint).policy_passed is False
    assert _verify(ISSUER.issue(doses=1), policy=CodePolicy(min_doses=2)).policy_passed is False


def test_a_site_can_accept_only_dynamic_passes() -> None:
    dynamic_only = CodePolicy(max_validity_min=5)
    refreshed = ISSUER.issue(valid_for_s=3 * 60)  # an app refreshes it every few minutes
    day_pass = ISSUER.issue(valid_for_s=24 * 3600)  # what a screenshot could keep showing
    assert _verify(refreshed, policy=dynamic_only).policy_passed is True
    day = _verify(day_pass, policy=dynamic_only)
    assert day.status is VerificationStatus.VALID and day.policy_passed is False
    assert _verify(day_pass).policy_passed is True  # sites that do not ask accept it


def _signed(version: int, hub: Issuer, *issuers: Issuer) -> SignedTrustList:
    document = TrustListDocument(
        version=version,
        issued_at=NOW,
        issuers=[IssuerKey(kid=i.kid, public_key_pem=i.public_pem()) for i in issuers],
    )
    return sign_trust_list(document, hub.key, hub.kid)


def test_hub_signed_trust_list_is_applied_cached_and_reloaded(tmp_path: Path) -> None:
    hub = Issuer(kid="hub")
    cache = tmp_path / "trust.json"
    store = TrustStore()
    assert store.apply_signed(_signed(3, hub, ISSUER), hub.key.public_key(), cache)
    assert _verify(ISSUER.issue(), store).status is VerificationStatus.VALID
    assert not store.apply_signed(_signed(2, hub), hub.key.public_key(), cache)  # older
    assert store.key(ISSUER.kid) is not None
    reloaded = TrustStore.load(cache, hub.key.public_key())
    assert reloaded.version == 3
    assert _verify(ISSUER.issue(), reloaded).status is VerificationStatus.VALID
    assert TrustStore.load(tmp_path / "absent.json").key(ISSUER.kid) is None


def test_trust_list_not_signed_by_the_pinned_hub_is_refused() -> None:
    hub, rogue = Issuer(kid="hub"), Issuer(kid="hub")
    store = TrustStore()
    with pytest.raises(TrustListSignatureError):
        store.apply_signed(_signed(9, rogue, rogue), hub.key.public_key(), None)
    signed = _signed(4, hub, ISSUER)
    widened = signed.model_copy(
        update={"document": signed.document.model_copy(update={"version": 99})}
    )
    with pytest.raises(TrustListSignatureError):
        store.apply_signed(widened, hub.key.public_key(), None)
    assert store.version is None


@pytest.mark.parametrize("depth", [900, 1200, 1500])
def test_deeply_nested_payloads_are_a_format_error(depth: int) -> None:
    payload = base64.urlsafe_b64encode(b"[" * depth).rstrip(b"=").decode()
    with pytest.raises(PassFormatError, match="bad payload"):
        parse_pass(f"GGHC1:{payload}.AAAA")
    assert _verify(f"GGHC1:{payload}.AAAA").reason_codes == [ReasonCode.MALFORMED]


def test_pass_fits_a_qr_code_and_parses() -> None:
    token = ISSUER.issue()
    assert len(token) < 400
    assert parse_pass(token).claims.kid == ISSUER.kid


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_text_yields_a_result_never_an_exception(text: str) -> None:
    result = _verify("GGHC1:" + text)
    assert result.status is VerificationStatus.INVALID
