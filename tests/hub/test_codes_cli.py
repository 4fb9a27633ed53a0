"""`gridgate-hub codes`: keygen → issue (token and PNG) → signed trust list → edge verifies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import zxingcpp
from typer.testing import CliRunner

from edge.verify.gridgate import GridgateVerifier
from edge.verify.trust import TrustStore
from hub.codes.cli import app
from hub.codes.keys import load_public, public_path
from models.events import CodeColour, VerificationStatus
from models.identity import holder_ref
from models.trust import SignedTrustList

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
