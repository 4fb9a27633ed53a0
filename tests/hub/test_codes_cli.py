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
