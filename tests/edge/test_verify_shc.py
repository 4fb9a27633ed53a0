"""SMART Health Card (``shc:/``) verification with the tests' own issuer keys."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

import pytest

from edge.verify.colour_rules import ShcRules
from edge.verify.policy import CodePolicy
from edge.verify.shc import ShcVerifier
from edge.verify.shc_card import ShcFormatError, join_chunks, numeric_to_jws
from edge.verify.trust import TrustEntryError
from models.base import utc_now
from models.events import CodeColour, HealthCodeObservation, ReasonCode, VerificationStatus
from models.trust import ShcIssuer, ShcKey, TrustListDocument
from tests.support.foreign_passes import (
    ShcIssuerKey,
    b64url,
    card_claims,
    chunks,
    foreign_trust_store,
    numeric,
)

ISSUER = ShcIssuerKey()
SECOND_KEY = ShcIssuerKey()  # the same iss, another key
STRANGER = ShcIssuerKey(iss="https://elsewhere.example.org")
NOW = datetime.now(UTC)
STORE = foreign_trust_store(
    shc=[ISSUER, SECOND_KEY],
    revoked_rids={
        ISSUER.kid: ["gone", "gone.5", "reissued.5", f"reissued.{int(NOW.timestamp()) - 3600}"]
    },
)


def _verify(text: str, policy: CodePolicy | None = None) -> HealthCodeObservation:
    return ShcVerifier(STORE, policy).verify(text, NOW)


def _reasons(text: str) -> list[ReasonCode]:
    return list(_verify(text).reason_codes)


def test_two_doses_are_valid_and_green() -> None:
    result = _verify(ISSUER.issue(doses=2))
    assert (result.status, result.colour, result.reason_codes) == (
        VerificationStatus.VALID,
        CodeColour.GREEN,
        [],
    )
    assert result.policy_passed is True
    assert result.issuer == ISSUER.kid
    assert result.holder_ref is None and result.expires_at is None
    assert _verify(SECOND_KEY.issue()).status is VerificationStatus.VALID


def test_doses_and_site_rules_set_the_colour() -> None:
    assert _verify(ISSUER.issue(doses=1)).colour is CodeColour.YELLOW
    assert _verify(ISSUER.issue(doses=0)).colour is CodeColour.YELLOW
    three = CodePolicy(shc=ShcRules(min_doses=3))
    assert _verify(ISSUER.issue(doses=2), three).colour is CodeColour.YELLOW
    assert _verify(ISSUER.issue(doses=3), three).colour is CodeColour.GREEN
    assert _verify(ISSUER.issue(doses=2), CodePolicy(min_doses=3)).policy_passed is False
    with pytest.raises(ValueError, match="min_doses"):
        ShcRules(min_doses=0)


def test_only_completed_immunizations_count() -> None:
    claims = card_claims(iss=ISSUER.iss, nbf=NOW.timestamp(), doses=2)
    claims["vc"]["credentialSubject"]["fhirBundle"]["entry"][1]["resource"]["status"] = (
        "entered-in-error"
    )
    result = _verify(numeric(ISSUER.jws(claims)))
    assert (result.status, result.colour) == (VerificationStatus.VALID, CodeColour.YELLOW)


def test_tampered_payload_has_a_bad_signature() -> None:
    one_dose = ISSUER.jws(card_claims(iss=ISSUER.iss, nbf=NOW.timestamp(), doses=1))
    two_doses = ISSUER.jws(card_claims(iss=ISSUER.iss, nbf=NOW.timestamp(), doses=2))
    header, _, signature = one_dose.split(".")
    forged = f"{header}.{two_doses.split('.')[1]}.{signature}"
    result = _verify(numeric(forged))
    assert (result.reason_codes, result.colour) == ([ReasonCode.BAD_SIGNATURE], None)


def test_wrong_key_unknown_kid_and_unknown_issuer() -> None:
    header = {"zip": "DEF", "alg": "ES256", "kid": ISSUER.kid}
    claims = card_claims(iss=ISSUER.iss, nbf=NOW.timestamp())
    assert _reasons(numeric(STRANGER.jws(claims, header=header))) == [ReasonCode.BAD_SIGNATURE]
    assert _reasons(numeric(STRANGER.jws(claims))) == [ReasonCode.UNKNOWN_ISSUER]
    assert _reasons(STRANGER.issue()) == [ReasonCode.UNKNOWN_ISSUER]
    # a trusted key is trusted only for its own iss
    other_iss = card_claims(iss=STRANGER.iss, nbf=NOW.timestamp())
    assert _reasons(numeric(ISSUER.jws(other_iss))) == [ReasonCode.UNKNOWN_ISSUER]


def test_validity_window() -> None:
    day = 86400.0
    assert _reasons(ISSUER.issue(exp=NOW.timestamp() - 1)) == [ReasonCode.EXPIRED]
    assert _reasons(ISSUER.issue(nbf=NOW.timestamp() + day)) == [ReasonCode.NOT_YET_VALID]
    assert _reasons(ISSUER.issue(nbf=NOW.timestamp() + 60)) == []
    result = _verify(ISSUER.issue(exp=NOW.timestamp() + day))
    assert result.expires_at is not None and result.status is VerificationStatus.VALID


def test_revoked_rids() -> None:
    assert _reasons(ISSUER.issue(rid="gone")) == [ReasonCode.REVOKED]
    assert _verify(ISSUER.issue(rid="gone")).policy_passed is False
    before = NOW.timestamp() - 2 * 3600
    assert _reasons(ISSUER.issue(rid="reissued", nbf=before)) == [ReasonCode.REVOKED]
    assert _reasons(ISSUER.issue(rid="reissued", nbf=NOW.timestamp() - 60)) == []
    assert _reasons(ISSUER.issue(rid="other")) == []
    assert _reasons(SECOND_KEY.issue(rid="gone")) == []  # revocations are per key


def test_a_chunk_is_unsupported_and_a_joined_card_verifies() -> None:
    jws = ISSUER.jws(card_claims(iss=ISSUER.iss, nbf=NOW.timestamp(), doses=2))
    parts = chunks(jws, 3)
    for part in parts:
        result = _verify(part)
        assert (result.status, result.reason_codes) == (
            VerificationStatus.UNVERIFIED,
            [ReasonCode.UNSUPPORTED],
        )
    joined = join_chunks(reversed(parts))
    assert numeric_to_jws(joined) == jws
    assert _verify(joined).status is VerificationStatus.VALID
    for incomplete in (parts[:2], [*parts, parts[0].replace("/3/", "/4/", 1)], ["shc:/1"]):
        with pytest.raises(ShcFormatError):
            join_chunks(incomplete)


def _card(payload: bytes | dict[str, object], **header: object) -> str:
    head: dict[str, object] = {"zip": "DEF", "alg": "ES256", "kid": ISSUER.kid} | header
    return numeric(ISSUER.jws(payload, header=head))


GOOD_JWS = ISSUER.jws(card_claims(iss=ISSUER.iss, nbf=NOW.timestamp()))
GOOD_CLAIMS = card_claims(iss=ISSUER.iss, nbf=NOW.timestamp())
MALFORMED = {
    "empty": "shc:/",
    "odd digits": numeric(GOOD_JWS)[:-1],
    "pair beyond z": "shc:/" + "78" * 40,
    "letters": "shc:/56762909524320603460292437404460AB",
    "unicode digits": "shc:/" + "٥٦" * 30,
    "oversize text": "shc:/" + "11" * 9000,
    "two parts": numeric(GOOD_JWS.rsplit(".", 1)[0]),
    "four parts": numeric(GOOD_JWS + ".AAAA"),
    "truncated": numeric(GOOD_JWS[: len(GOOD_JWS) // 2]),
    "header not JSON": numeric(b64url(b"{not json") + GOOD_JWS[GOOD_JWS.index(".") :]),
    "header without kid": _card(GOOD_CLAIMS, kid=None),
    "alg none": _card(GOOD_CLAIMS, alg="none"),
    "no zip": numeric(ISSUER.jws(GOOD_CLAIMS, header={"alg": "ES256", "kid": ISSUER.kid})),
    "not deflated": numeric(ISSUER.jws(GOOD_CLAIMS, compress=False)),
    "deflate bomb": _card(b" " * (4 << 20)),
    "deeply nested JSON": _card(b"[" * 30_000 + b"]" * 30_000),
    "payload not an object": _card(b"[1, 2, 3]"),
    "no iss": _card({k: v for k, v in GOOD_CLAIMS.items() if k != "iss"}),
    "nbf as text": _card(GOOD_CLAIMS | {"nbf": "yesterday"}),
    "nbf out of range": _card(GOOD_CLAIMS | {"nbf": 1e300}),
    "not a health card": _card(GOOD_CLAIMS | {"vc": GOOD_CLAIMS["vc"] | {"type": ["x"]}}),
    "bad base64 in payload": numeric(GOOD_JWS.replace(".", ".=", 1)),
    "bad base64 in signature": numeric(GOOD_JWS + "@"),
    "payload not UTF-8": _card(b"\xff\xfe{}"),
    "raw deflate expected, zlib given": numeric(
        ISSUER.jws(zlib.compress(json.dumps(GOOD_CLAIMS).encode()), compress=False)
    ),
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_cards_are_malformed(text: str) -> None:
    result = _verify(text)
    assert (result.status, result.reason_codes) == (
        VerificationStatus.INVALID,
        [ReasonCode.MALFORMED],
    )
    assert result.colour is None and result.policy_passed is False


@pytest.mark.parametrize("alg", ["ES384", "RS256", "EdDSA"])
def test_another_jws_algorithm_is_unsupported_not_malformed(alg: str) -> None:
    result = _verify(_card(GOOD_CLAIMS, alg=alg))
    assert (result.status, result.reason_codes) == (
        VerificationStatus.UNVERIFIED,
        [ReasonCode.UNSUPPORTED],
    )
    assert result.policy_passed is False


def test_bad_signatures_are_bad_not_a_crash() -> None:
    signing_input = GOOD_JWS.rsplit(".", 1)[0]
    for signature in (b"", b"\x00" * 64, b"\xff" * 64, b"\x30" * 72):
        assert _reasons(numeric(f"{signing_input}.{b64url(signature)}")) == [
            ReasonCode.BAD_SIGNATURE
        ]


# -- the trust list --------------------------------------------------------------------------


def test_unusable_keys_refuse_the_whole_list() -> None:
    store = foreign_trust_store(shc=[ISSUER])
    good = ISSUER.jwk()
    wrong_kid = good.model_copy(update={"kid": STRANGER.kid})
    off_curve = good.model_copy(update={"y": good.x})
    off_curve = off_curve.model_copy(update={"kid": off_curve.thumbprint()})
    for jwk in (wrong_kid, off_curve):
        document = TrustListDocument(
            version=5, issued_at=utc_now(), shc_issuers={ISSUER.iss: ShcIssuer(keys=[jwk])}
        )
        with pytest.raises(TrustEntryError):
            store.replace(document)
        assert store.version == 1 and store.shc_key(ISSUER.iss, ISSUER.kid) is not None


@pytest.mark.parametrize(
    "bad",
    [
        {"iss": "http://plain.example.org"},
        {"iss": "https://trailing.example.org/"},
        {"crv": "P-384"},
        {"kty": "RSA"},
        {"x": "short"},
        {"rid": "not a rid!"},
    ],
)
def test_the_trust_list_model_bounds_its_entries(bad: dict[str, str]) -> None:
    key = ISSUER.jwk().model_dump() | {k: v for k, v in bad.items() if k not in ("iss", "rid")}
    rids = {ISSUER.kid: [bad.get("rid", "fine")]}
    document = {
        "version": 1,
        "issued_at": "2026-01-01T00:00:00Z",
        "shc_issuers": {bad.get("iss", ISSUER.iss): {"keys": [key], "revoked_rids": rids}},
    }
    with pytest.raises(ValueError, match="shc_issuers"):
        TrustListDocument.model_validate_json(json.dumps(document))


def test_a_generated_jwk_round_trips() -> None:
    jwk = ShcKey.model_validate(ISSUER.jwk().model_dump())
    assert jwk.kid == jwk.thumbprint()
    assert jwk.public_key() == ISSUER.key.public_key()
