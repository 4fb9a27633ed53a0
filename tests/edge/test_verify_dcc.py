"""EU DCC (``HC1:``) verification with the tests' own signers: every kind of good and bad code."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from base45 import b45decode, b45encode  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from edge.decoders.payloads import HealthCode, PayloadClassifier
from edge.decoders.qr import create as create_qr
from edge.verify.colour_rules import DccRules
from edge.verify.eu_dcc import DccStage, EuDccVerifier
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustEntryError, TrustStore
from models.base import utc_now
from models.events import (
    CodeColour,
    HealthCodeFormat,
    HealthCodeObservation,
    ReasonCode,
    VerificationStatus,
)
from models.trust import (
    DccSigner,
    SignedTrustList,
    TrustListDocument,
    sign_trust_list,
    verify_trust_list,
)
from tests.support.foreign_passes import (
    DccIssuer,
    cose_sign1,
    cwt,
    foreign_trust_store,
    hc1,
    lab_result,
    recovery,
    to_be_signed,
    vaccination,
)
from tests.support.frames import qr_frame

SIGNER = DccIssuer()
RSA_SIGNER = DccIssuer.rsa()
STRANGER = DccIssuer()
NOW = datetime.now(UTC)


def _verify(
    text: str, policy: CodePolicy | None = None, at: datetime = NOW
) -> HealthCodeObservation:
    return EuDccVerifier(foreign_trust_store([SIGNER, RSA_SIGNER]), policy).verify(text, at)


def _reasons(text: str, at: datetime = NOW) -> list[ReasonCode]:
    return list(_verify(text, at=at).reason_codes)


def test_complete_vaccination_es256_is_valid_and_green() -> None:
    result = _verify(SIGNER.issue(vaccination(dn=2, sd=2)))
    assert (result.status, result.colour, result.reason_codes) == (
        VerificationStatus.VALID,
        CodeColour.GREEN,
        [],
    )
    assert result.policy_passed is True
    assert result.issuer == base64.b64encode(SIGNER.kid).decode()
    assert result.expires_at is not None and result.expires_at > NOW
    assert result.holder_ref is None


def test_ps256_rsa_signature_verifies() -> None:
    result = _verify(RSA_SIGNER.issue(recovery("2021-01-01", "2099-01-01")))
    assert (result.status, result.colour) == (VerificationStatus.VALID, CodeColour.GREEN)


@pytest.mark.parametrize(
    ("certificate", "colour"),
    [
        (vaccination(dn=1, sd=2), CodeColour.YELLOW),
        (vaccination(dn=3, sd=2), CodeColour.GREEN),
        (recovery("2021-01-01", "2021-06-01"), CodeColour.YELLOW),
        (recovery("2099-01-01", "2099-06-01"), CodeColour.YELLOW),
        (lab_result(NOW - timedelta(hours=20)), CodeColour.GREEN),
        (lab_result(NOW - timedelta(hours=60)), CodeColour.GREEN),
        (lab_result(NOW - timedelta(hours=60), rapid=True), CodeColour.YELLOW),
        (lab_result(NOW - timedelta(hours=80)), CodeColour.YELLOW),
        (lab_result(NOW + timedelta(hours=3)), CodeColour.YELLOW),
        (lab_result(NOW - timedelta(hours=2), detected=True), CodeColour.RED),
    ],
)
def test_colour_follows_the_default_rules(certificate: dict[str, Any], colour: CodeColour) -> None:
    result = _verify(SIGNER.issue(certificate))
    assert (result.status, result.colour) == (VerificationStatus.VALID, colour)
    assert result.policy_passed is (colour is CodeColour.GREEN)


def test_site_rules_and_policy_change_the_verdict() -> None:
    day_old = SIGNER.issue(lab_result(NOW - timedelta(hours=30)))
    strict = CodePolicy(dcc=DccRules(test_max_age_h=24))
    assert _verify(day_old).colour is CodeColour.GREEN
    assert _verify(day_old, strict).colour is CodeColour.YELLOW
    no_vaccines = CodePolicy(dcc=DccRules(vaccination_green=False))
    assert _verify(SIGNER.issue(vaccination()), no_vaccines).colour is CodeColour.YELLOW
    # the three-code policy still applies: a vaccination is no test
    needs_test = _verify(SIGNER.issue(vaccination()), CodePolicy(max_test_age_h=48))
    assert (needs_test.colour, needs_test.policy_passed) == (CodeColour.GREEN, False)
    recent = _verify(day_old, CodePolicy(max_test_age_h=48))
    assert recent.policy_passed is True
    assert recent.last_test_at is not None
    assert abs((NOW - recent.last_test_at) - timedelta(hours=30)) < timedelta(seconds=2)
    with pytest.raises(ValueError, match="extra"):
        CodePolicy.model_validate({"dcc": {"test_max_age_hours": 5}})


def test_tampered_payload_has_a_bad_signature() -> None:
    green = cwt(vaccination(), issued_at=NOW.timestamp(), expires_at=NOW.timestamp() + 86400)
    partial = cwt(vaccination(dn=1), issued_at=NOW.timestamp(), expires_at=NOW.timestamp() + 86400)
    header = {1: -7, 4: SIGNER.kid}
    signature = SIGNER.sign(to_be_signed(header, partial))
    forged = hc1(cose_sign1(green, signature, protected=header))
    assert _reasons(forged) == [ReasonCode.BAD_SIGNATURE]
    assert _verify(forged).colour is None


def test_wrong_key_under_a_trusted_kid_has_a_bad_signature() -> None:
    assert _reasons(STRANGER.issue(vaccination(), kid=SIGNER.kid)) == [ReasonCode.BAD_SIGNATURE]
    ecdsa_for_rsa = SIGNER.issue(vaccination(), kid=RSA_SIGNER.kid)
    assert _reasons(ecdsa_for_rsa) == [ReasonCode.BAD_SIGNATURE]
    ps256_claimed = SIGNER.issue(vaccination(), alg=-37)
    assert _reasons(ps256_claimed) == [ReasonCode.BAD_SIGNATURE]


def test_unknown_kid_is_an_unknown_issuer() -> None:
    result = _verify(STRANGER.issue(vaccination()))
    assert result.reason_codes == [ReasonCode.UNKNOWN_ISSUER]
    assert result.issuer == base64.b64encode(STRANGER.kid).decode()


def test_unsupported_algorithm_is_unverified() -> None:
    result = _verify(SIGNER.issue(vaccination(), alg=-35))  # ES384
    assert (result.status, result.reason_codes) == (
        VerificationStatus.UNVERIFIED,
        [ReasonCode.UNSUPPORTED],
    )


def test_kid_placement_and_tags() -> None:
    assert _verify(SIGNER.issue(vaccination(), kid_in_unprotected=True)).status.value == "valid"
    assert _verify(SIGNER.issue(vaccination(), tags=())).status.value == "valid"
    assert _verify(SIGNER.issue(vaccination(), tags=(61, 18))).status.value == "valid"
    assert _reasons(SIGNER.issue(vaccination(), tags=(18, 61))) == [ReasonCode.MALFORMED]
    assert _reasons(SIGNER.issue(vaccination(), tags=(24,))) == [ReasonCode.MALFORMED]
    assert _reasons(SIGNER.issue(vaccination(), kid=SIGNER.kid[:7])) == [ReasonCode.MALFORMED]
    assert _reasons(SIGNER.issue(vaccination(), kid=SIGNER.kid + b"!")) == [ReasonCode.MALFORMED]


def test_validity_window_of_the_code_and_of_its_signer() -> None:
    hour = 3600.0
    expired = SIGNER.issue(vaccination(), issued_at=NOW.timestamp() - 10 * hour, valid_for_s=hour)
    assert _reasons(expired) == [ReasonCode.EXPIRED]
    assert _verify(expired).colour is CodeColour.GREEN  # signed content, shown but refused
    future = SIGNER.issue(vaccination(), issued_at=NOW.timestamp() + hour)
    assert _reasons(future) == [ReasonCode.NOT_YET_VALID]
    skewed = SIGNER.issue(vaccination(), issued_at=NOW.timestamp() + 60)
    assert _reasons(skewed) == []
    old_signer = DccIssuer(valid_until=NOW - timedelta(days=1))
    stale = old_signer.issue(vaccination(), issued_at=NOW.timestamp() - 5 * 86400)
    verifier = EuDccVerifier(foreign_trust_store([old_signer]))
    assert verifier.verify(stale, NOW).reason_codes == [ReasonCode.EXPIRED]
    assert verifier.verify(stale, NOW - timedelta(days=3)).status is VerificationStatus.VALID


def test_key_usage_restricts_what_a_signer_may_sign() -> None:
    test_only = DccIssuer(usages=("t",))
    verifier = EuDccVerifier(foreign_trust_store([test_only]))
    vaccine = verifier.verify(test_only.issue(vaccination()), NOW)
    assert vaccine.reason_codes == [ReasonCode.UNKNOWN_ISSUER]
    test = verifier.verify(test_only.issue(lab_result(NOW - timedelta(hours=1))), NOW)
    assert test.status is VerificationStatus.VALID


def _hc1_of_payload(payload: bytes) -> str:
    header = {1: -7, 4: SIGNER.kid}
    return hc1(cose_sign1(payload, SIGNER.sign(to_be_signed(header, payload)), protected=header))


def _nested(depth: int) -> bytes:
    return b"\x81" * depth + b"\x00"


GOOD = SIGNER.issue(vaccination())
GOOD_COSE = zlib.decompress(bytes(b45decode(GOOD[4:])))
BOMB = zlib.compress(b"\x00" * (4 << 20), 9)
MALFORMED: dict[str, tuple[str, DccStage]] = {
    "empty": ("HC1:", DccStage.COMPRESSION),
    "no prefix": (GOOD[4:], DccStage.UNPREFIX),
    "wrong prefix": ("HC2:" + GOOD[4:], DccStage.UNPREFIX),
    "truncated": (GOOD[: len(GOOD) // 2], DccStage.COMPRESSION),
    "one char cut": (GOOD[:-1], DccStage.BASE45),
    "garbage": ("HC1:" + "Q" * 300, DccStage.COMPRESSION),
    "lower-case base45": (GOOD.lower().replace("hc1:", "HC1:"), DccStage.BASE45),
    "base45 triple too large": ("HC1:" + ":::" * 10, DccStage.BASE45),
    "base45 bad char": (GOOD[:40] + "#" + GOOD[41:], DccStage.BASE45),
    "oversize text": ("HC1:" + "0" * 9000, DccStage.UNPREFIX),
    "not compressed": (hc1(GOOD_COSE, compress=False), DccStage.COMPRESSION),
    "zlib truncated": (
        "HC1:" + b45encode(zlib.compress(GOOD_COSE)[:-6]).decode(),
        DccStage.COMPRESSION,
    ),
    "bytes after zlib": (
        "HC1:" + b45encode(zlib.compress(GOOD_COSE) + b"\x00").decode(),
        DccStage.COMPRESSION,
    ),
    "decompression bomb": ("HC1:" + b45encode(BOMB).decode(), DccStage.COMPRESSION),
    "deeply nested COSE": (hc1(b"\xd2" + _nested(50_000)), DccStage.COSE),
    "deeply nested claims": (_hc1_of_payload(_nested(10_000)), DccStage.CLAIMS),
    "huge declared array": (hc1(b"\x9b" + (1 << 62).to_bytes(8, "big")), DccStage.COSE),
    "cyclic shared reference": (
        _hc1_of_payload(bytes([0xD8, 28, 0x81, 0xD8, 29, 0x00])),
        DccStage.CLAIMS,
    ),
    "COSE of three": (hc1(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""]))), DccStage.COSE),
    "COSE not an array": (hc1(cbor2.dumps(cbor2.CBORTag(18, {"a": 1}))), DccStage.COSE),
    "protected header not a map": (
        hc1(cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps([1]), {4: SIGNER.kid}, b"", b""]))),
        DccStage.COSE,
    ),
    "no kid": (hc1(cose_sign1(b"\xa0", b"x" * 64, protected={1: -7})), DccStage.COSE),
    "claims not a map": (_hc1_of_payload(cbor2.dumps([1, 2])), DccStage.CLAIMS),
    "no HCERT": (_hc1_of_payload(cbor2.dumps({1: "AT", 4: 2_000_000_000, 6: 1})), DccStage.CLAIMS),
    "no expiry": (_hc1_of_payload(cbor2.dumps({6: 1, -260: {1: vaccination()}})), DccStage.CLAIMS),
    "expiry out of range": (
        _hc1_of_payload(cbor2.dumps({6: 1, 4: 1 << 60, -260: {1: vaccination()}})),
        DccStage.CLAIMS,
    ),
    "HCERT of two kinds": (
        _hc1_of_payload(
            cwt(vaccination() | recovery("2021-01-01", "2099-01-01"), issued_at=0, expires_at=4e9)
        ),
        DccStage.SCHEMA,
    ),
    "HCERT with no statement": (
        _hc1_of_payload(cwt({"ver": "1.3.0", "nam": {}, "dob": ""}, issued_at=0, expires_at=4e9)),
        DccStage.SCHEMA,
    ),
    "HCERT with two doses listed": (
        _hc1_of_payload(
            cwt(vaccination() | {"v": vaccination()["v"] * 2}, issued_at=0, expires_at=4e9)
        ),
        DccStage.SCHEMA,
    ),
    "dose as text": (
        _hc1_of_payload(
            cwt(
                vaccination() | {"v": [vaccination()["v"][0] | {"dn": "two"}]},
                issued_at=0,
                expires_at=4e9,
            )
        ),
        DccStage.SCHEMA,
    ),
    "duplicate map key": (_hc1_of_payload(b"\xa2\x06\x01\x06\x02"), DccStage.CLAIMS),
    "trailing CBOR": (_hc1_of_payload(cbor2.dumps({1: "AT"}) + b"\x00"), DccStage.CLAIMS),
}


@pytest.mark.parametrize(("text", "stage"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_codes_are_malformed(text: str, stage: DccStage) -> None:
    inspection = EuDccVerifier(foreign_trust_store([SIGNER])).inspect(text, NOW)
    assert [s for s, reason in inspection.outcomes.items() if reason is not None] == [stage]
    result = _verify(text)
    assert (result.status, result.reason_codes) == (
        VerificationStatus.INVALID,
        [ReasonCode.MALFORMED],
    )
    assert result.colour is None and result.policy_passed is False


def test_overlong_ecdsa_signature_is_bad_not_a_crash() -> None:
    payload = cwt(vaccination(), issued_at=NOW.timestamp(), expires_at=NOW.timestamp() + 9e4)
    header = {1: -7, 4: SIGNER.kid}
    for signature in (b"\x30" * 72, b"", b"\xff" * 64, b"\x00" * 64):
        text = hc1(cose_sign1(payload, signature, protected=header))
        assert _reasons(text) == [ReasonCode.BAD_SIGNATURE]


def test_inspection_names_the_check_that_failed() -> None:
    verifier = EuDccVerifier(foreign_trust_store([SIGNER]))
    bomb = verifier.inspect(MALFORMED["decompression bomb"][0], NOW)
    assert bomb.passed(DccStage.BASE45) is True
    assert bomb.passed(DccStage.COMPRESSION) is False
    assert bomb.passed(DccStage.SIGNATURE) is None
    good = verifier.inspect(GOOD, NOW)
    assert all(good.passed(stage) for stage in DccStage)


def test_a_printed_code_is_read_routed_and_verified() -> None:
    text = SIGNER.issue(lab_result(NOW - timedelta(hours=5)))
    gray = qr_frame(text, module=3, error="l", seed=3)
    symbols = create_qr("zxing", bounded=False).decode(gray)
    assert [s.text for s in symbols] == [text]
    routed = PayloadClassifier().classify(symbols[0].payload)
    assert routed == HealthCode(HealthCodeFormat.EU_DCC, text)
    result = _verify(routed.text)
    assert (result.status, result.colour) == (VerificationStatus.VALID, CodeColour.GREEN)


# -- the trust list --------------------------------------------------------------------------


def _document(**signers: DccSigner) -> TrustListDocument:
    return TrustListDocument(version=2, issued_at=utc_now(), dcc_signers=signers)


def test_unusable_signer_entries_refuse_the_whole_list() -> None:
    store = foreign_trust_store([SIGNER])
    kid, entry = SIGNER.trust_entry()
    other_kid, _ = STRANGER.trust_entry()
    p384 = DccIssuer(key=ec.generate_private_key(ec.SECP384R1()))
    weak_rsa = DccIssuer(key=rsa.generate_private_key(65537, 1024))
    bad = {
        "not a certificate": {kid: DccSigner(certificate=base64.b64encode(b"x" * 40).decode())},
        "kid of another": {other_kid: entry},
        "P-384 key": dict([p384.trust_entry()]),
        "RSA 1024": dict([weak_rsa.trust_entry()]),
    }
    for name, signers in bad.items():
        with pytest.raises(TrustEntryError):
            store.replace(_document(**signers))
        assert store.version == 1, name
        assert store.dcc_signer(kid) is not None
    with pytest.raises(ValueError, match="dcc_signers"):
        _document(**{"short": entry})


def test_lists_signed_before_dcc_and_shc_sections_still_verify() -> None:
    hub = ec.generate_private_key(ec.SECP256R1())
    old_body = {"version": 3, "issued_at": "2026-01-01T00:00:00Z", "issuers": [], "revoked": []}
    canonical = json.dumps(old_body, sort_keys=True, separators=(",", ":")).encode()
    r, s = decode_dss_signature(hub.sign(canonical, ec.ECDSA(hashes.SHA256())))
    signature = base64.urlsafe_b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    old = {"document": old_body, "signer_kid": "hub", "signature": signature.rstrip(b"=").decode()}
    signed = SignedTrustList.model_validate(old)
    verify_trust_list(signed, hub.public_key())
    store = TrustStore()
    assert store.apply_signed(signed, hub.public_key(), None)
    new = sign_trust_list(_document(**dict([SIGNER.trust_entry()])), hub, "hub")
    verify_trust_list(SignedTrustList.model_validate_json(new.model_dump_json()), hub.public_key())
