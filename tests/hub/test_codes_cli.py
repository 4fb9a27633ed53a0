"""`gridgate-hub codes`: keygen → issue (token and PNG) → signed trust list → edge verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import cv2
import zxingcpp
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from edge.verify.eu_dcc import EuDccVerifier
from edge.verify.gridgate import GridgateVerifier
from edge.verify.shc import ShcVerifier
from edge.verify.trust import TrustStore
from hub.codes.cli import app
from hub.codes.keys import load_public, public_path
from models.events import CodeColour, ReasonCode, VerificationStatus
from models.identity import holder_ref
from models.passes import TestResult, parse_pass
from models.trust import SignedTrustList
from tests.support.foreign_passes import DccIssuer, ShcIssuerKey, vaccination

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_issue_and_verify_through_the_cli(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    identity = tmp_path / "identity.key"
    identity.write_text("a-site-identity-key-of-32-bytes!!")
    _ok("keygen", "issuer-1", "--keys", str(keys))
    _ok("keygen", "hub-1", "--keys", str(keys))
    assert (keys / "issuer-1.key.pem").stat().st_mode & 0o777 == 0o600
    png = tmp_path / "pass.png"
    token = _ok(
        "issue",
        "--kid", "issuer-1",
        "--id-number", "110101199003074514",
        "--name", "张三",
        "--identity-key", str(identity),
        "--colour", "red",
        "--tested-hours-ago", "30",
        "--keys", str(keys),
        "--png", str(png),
    ).strip()  # fmt: skip
    assert token.startswith("GGHC1:")
    assert "110101199003074514" not in token
    decoded = zxingcpp.read_barcodes(cv2.imread(str(png)))
    assert [d.text for d in decoded] == [token]

    out = tmp_path / "trust.json"
    _ok(
        "trust-list",
        "--hub-kid", "hub-1",
        "--version", "1",
        "--out", str(out),
        "--issuer", str(public_path(keys, "issuer-1")),
        "--keys", str(keys),
    )  # fmt: skip
    store = TrustStore()
    signed = SignedTrustList.model_validate_json(out.read_text())
    assert store.apply_signed(signed, load_public(public_path(keys, "hub-1")), None)
    result = GridgateVerifier(store).verify(token, datetime.now(UTC))
    assert result.status is VerificationStatus.VALID
    assert result.colour is CodeColour.RED
    assert result.holder_ref == holder_ref("110101199003074514", identity.read_bytes().strip())


def test_keygen_refuses_to_overwrite_and_issue_names_a_missing_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    _ok("keygen", "k1", "--keys", str(keys))
    again = runner.invoke(app, ["keygen", "k1", "--keys", str(keys)])
    assert again.exit_code == 2
    assert "exists" in again.output
    identity = tmp_path / "identity.key"
    identity.write_text("x" * 32)
    missing = runner.invoke(
        app,
        ["issue", "--kid", "nope", "--id-number", "1", "--name", "A", "--identity-key",
         str(identity), "--keys", str(keys)],
    )  # fmt: skip
    assert missing.exit_code == 2
    assert "nope.key.pem" in missing.output


def test_trust_list_carries_dcc_signers_and_shc_issuers(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    _ok("keygen", "hub-1", "--keys", str(keys))
    ec_signer, rsa_signer, shc = DccIssuer(country="DE"), DccIssuer.rsa(), ShcIssuerKey()
    second = DccIssuer(usages=("t",))
    pem = tmp_path / "dscs.pem"
    pem.write_bytes(b"".join(s.certificate.public_bytes(Encoding.PEM) for s in (ec_signer, second)))
    der = tmp_path / "rsa.der"
    der.write_bytes(rsa_signer.der)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [shc.jwk().model_dump() | {"use": "sig", "alg": "ES256"}]}))
    crl = tmp_path / "crl.json"
    crl.write_text(json.dumps({"kid": shc.kid, "method": "rid", "ctr": 1, "rids": ["r1"]}))
    out = tmp_path / "trust.json"
    printed = _ok(
        "trust-list", "--hub-kid", "hub-1", "--version", "4", "--out", str(out),
        "--dcc-cert", str(pem), "--dcc-cert", str(der),
        "--shc-issuer", f"{shc.iss}={jwks}", "--shc-crl", str(crl), "--keys", str(keys),
    )  # fmt: skip
    assert "3 DCC signers, 1 SHC issuers" in printed
    store = TrustStore()
    signed = SignedTrustList.model_validate_json(out.read_text())
    assert store.apply_signed(signed, load_public(public_path(keys, "hub-1")), None)
    assert signed.document.dcc_signers[ec_signer.trust_entry()[0]].country == "DE"
    now = datetime.now(UTC)
    for signer in (ec_signer, rsa_signer):
        result = EuDccVerifier(store).verify(signer.issue(vaccination()), now)
        assert result.status is VerificationStatus.VALID
    restricted = EuDccVerifier(store).verify(second.issue(vaccination()), now)
    assert restricted.reason_codes == [ReasonCode.UNKNOWN_ISSUER]  # a test-only signer
    assert ShcVerifier(store).verify(shc.issue(), now).status is VerificationStatus.VALID
    revoked = ShcVerifier(store).verify(shc.issue(rid="r1"), now)
    assert revoked.reason_codes == [ReasonCode.REVOKED]


def test_trust_list_refuses_unusable_dcc_and_shc_files(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    _ok("keygen", "hub-1", "--keys", str(keys))
    shc = ShcIssuerKey()
    files = {
        "not-a-cert.pem": b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "garbage.der": b"\x30\x03\x02\x01",
        "jwks.json": json.dumps({"keys": [shc.jwk().model_dump()]}).encode(),
        "bad-kid.json": json.dumps({"keys": [shc.jwk().model_dump() | {"kid": "A" * 43}]}).encode(),
        "not-jwks.json": b"[1, 2]",
        "crl.json": json.dumps({"kid": "B" * 43, "rids": ["x"]}).encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    base = ["trust-list", "--hub-kid", "hub-1", "--version", "1", "--keys", str(keys)]
    out = tmp_path / "t.json"
    at = {name: str(tmp_path / name) for name in [*files, "missing.pem"]}
    cases = [
        (["--dcc-cert", at["not-a-cert.pem"]], "not an X.509 certificate"),
        (["--dcc-cert", at["garbage.der"]], "not an X.509 certificate"),
        (["--dcc-cert", at["missing.pem"]], "missing.pem"),
        (["--shc-issuer", f"{shc.iss}={at['bad-kid.json']}"], "thumbprint"),
        (["--shc-issuer", f"{shc.iss}={at['not-jwks.json']}"], "not a JWKS"),
        (["--shc-issuer", "no-equals-sign"], "ISS_URL=JWKS_FILE"),
        (["--shc-issuer", f"http://plain.example.org={at['jwks.json']}"], "shc_issuers"),
        (
            ["--shc-issuer", f"{shc.iss}={at['jwks.json']}", "--shc-crl", at["crl.json"]],
            "unknown SHC kids",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(app, [*base, "--out", str(out), *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    assert not out.exists()


# --- codes verify, revocation, positive tests, identity keys -----------------------------------


def _site(tmp_path: Path) -> tuple[Path, Path]:
    """Keys issuer-1 and hub-1, and an identity key file."""
    keys, identity = tmp_path / "keys", tmp_path / "identity.key"
    identity.write_text("a-site-identity-key-of-32-bytes!!")
    _ok("keygen", "issuer-1", "--keys", str(keys))
    _ok("keygen", "hub-1", "--keys", str(keys))
    return keys, identity


def _issue(keys: Path, identity: Path, *extra: str) -> str:
    return _ok(
        "issue", "--kid", "issuer-1", "--id-number", "110101199003074514", "--name", "张三",
        "--identity-key", str(identity), "--keys", str(keys), *extra,
    ).strip()  # fmt: skip


def _verify(*args: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["verify", *args])
    assert result.exit_code in (0, 1), result.output
    verdict: dict[str, object] = json.loads(result.stdout)
    return result.exit_code, verdict


def test_codes_verify_prints_the_verdict_of_texts_and_photos(tmp_path: Path) -> None:
    keys, identity = _site(tmp_path)
    png = tmp_path / "pass.png"
    good = _issue(keys, identity, "--tested-hours-ago", "10", "--png", str(png))
    gone = _issue(keys, identity)
    revoked_file = tmp_path / "revoked.txt"
    revoked_file.write_text(parse_pass(gone).claims.pass_id + "\n")
    trust = tmp_path / "trust.json"
    printed = _ok(
        "trust-list", "--hub-kid", "hub-1", "--version", "2", "--out", str(trust),
        "--issuer", str(public_path(keys, "issuer-1")), "--revoked", str(revoked_file),
        "--keys", str(keys),
    )  # fmt: skip
    assert "1 revoked" in printed
    pinned = ["--trust-list", str(trust), "--hub-key", str(public_path(keys, "hub-1"))]

    for args in ([good], ["--file", str(png)]):
        code, verdict = _verify(*args, *pinned)
        assert (code, verdict["status"], verdict["colour"]) == (0, "valid", "green")
        assert (verdict["format"], verdict["issuer"]) == ("gridgate", "issuer-1")
    forged = good[:-12] + ("A" if good[-12] != "A" else "B") + good[-11:]
    for text, reason in ((gone, "revoked"), (forged, "bad_signature")):
        code, verdict = _verify(text, *pinned)
        assert (code, verdict["status"], verdict["reason_codes"]) == (1, "invalid", [reason])
    assert _verify(good)[1]["reason_codes"] == ["unknown_issuer"]  # no trust list: no issuer


def test_codes_verify_refuses_a_foreign_trust_list_and_odd_input(tmp_path: Path) -> None:
    keys, identity = _site(tmp_path)
    _ok("keygen", "hub-2", "--keys", str(keys))
    token = _issue(keys, identity)
    trust = tmp_path / "trust.json"
    _ok("trust-list", "--hub-kid", "hub-1", "--version", "1", "--out", str(trust),
        "--issuer", str(public_path(keys, "issuer-1")), "--keys", str(keys))  # fmt: skip
    not_an_image = tmp_path / "x.png"
    not_an_image.write_bytes(b"not an image")
    cases = [
        ([token, "--trust-list", str(trust), "--hub-key", str(public_path(keys, "hub-2"))],
         "does not verify"),
        ([token, "--trust-list", str(tmp_path / "absent.json")], "absent.json"),
        ([], "either TEXT or --file"),
        ([token, "--file", str(not_an_image)], "either TEXT or --file"),
        (["--file", str(not_an_image)], "photo_unreadable"),
        (["https://example.org/not-a-code"], "not a health code"),
    ]  # fmt: skip
    for args, message in cases:
        result = runner.invoke(app, ["verify", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_issue_a_positive_test_and_refuse_unusable_identity_keys(tmp_path: Path) -> None:
    keys, identity = _site(tmp_path)
    positive = parse_pass(_issue(keys, identity, "--tested-hours-ago", "5", "--test-positive"))
    assert positive.claims.test_result is TestResult.POSITIVE
    negative = parse_pass(_issue(keys, identity, "--tested-hours-ago", "5"))
    assert negative.claims.test_result is TestResult.NEGATIVE
    short = tmp_path / "short.key"
    short.write_text("too-short\n")
    base = ["issue", "--kid", "issuer-1", "--id-number", "1", "--name", "A", "--keys", str(keys)]
    cases = [
        (["--identity-key", str(tmp_path / "absent.key")], "absent.key"),
        (["--identity-key", str(short)], "at least 32 characters"),
        (["--identity-key", str(identity), "--test-positive"], "--tested-hours-ago"),
    ]
    for args, message in cases:
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
