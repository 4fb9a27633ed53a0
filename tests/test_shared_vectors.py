"""External test vectors nobody on this project wrote: EU dgc-testdata and SMART examples.

Reads ``../shared/data`` beside the repository (see its ``SOURCES.md``) and skips cleanly
when it is absent. Each DCC case's own signer certificate is trusted, the case is verified
at its validation clock, and every expected-result flag it carries is compared with what
the verifier found (an absent flag is not checked):

========================== ==========================================================
flag                       what must hold (True) or not hold (False)
========================== ==========================================================
EXPECTEDPICTUREDECODE      the edge's QR decoder reads ``PREFIX`` from the PNG
EXPECTEDUNPREFIX           the classifier routes it as EU DCC and the prefix check passes
EXPECTEDB45DECODE          the base45 check passes
EXPECTEDCOMPRESSION        the zlib check passes
EXPECTEDDECODE             COSE and CWT claims decode
EXPECTEDVALIDJSON          ... and the HCERT equals the case's ``JSON`` (dates normalised)
EXPECTEDSCHEMAVALIDATION   the HCERT check passes (one statement kind, one entry)
EXPECTEDVALIDOBJECT        the same
EXPECTEDENCODE             every decoding check passes (the issuer's chain is intact)
EXPECTEDVERIFY             kid found and signature valid
EXPECTEDKEYUSAGE           the DSC's key usage allows the statement kind
EXPECTEDEXPIRATIONCHECK    the validity window holds at the clock
EXPTECTEDEXPIRED           (upstream's misspelling) verified today, it is expired
========================== ==========================================================

A check the verifier never reached (it refused the code earlier) counts as False. The
cases in ``known_issues.csv`` are reported and not failed. Case folders are matched in any
letter case (``IE/2DCode/Raw``), and their number must be what ``SOURCES.md`` promises.

The pass counts per flag (and per SMART check) are printed by the tests, and without
pytest by ``python -m tests.test_shared_vectors`` (exit 1 on a disagreement).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.decoders.payloads import HealthCode, PayloadClassifier
from edge.decoders.qr import create as create_qr
from edge.verify.eu_dcc import DECODING_STAGES, DccInspection, DccStage, EuDccVerifier
from edge.verify.shc import ShcVerifier
from edge.verify.shc_card import join_chunks, numeric_to_jws, parse_jws
from edge.verify.trust import TrustStore
from hub.codes.trustlist import read_shc_issuers
from models.base import utc_now
from models.events import CodeColour, HealthCodeFormat, ReasonCode
from models.trust import DccSigner, TrustListDocument, dcc_kid
from tests.support.foreign_passes import numeric

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DCC_DIR, SHC_DIR = SHARED / "dcc", SHARED / "shc"
STAGE_OF_FLAG = {
    "EXPECTEDB45DECODE": DccStage.BASE45,
    "EXPECTEDCOMPRESSION": DccStage.COMPRESSION,
    "EXPECTEDDECODE": DccStage.CLAIMS,
    "EXPECTEDSCHEMAVALIDATION": DccStage.SCHEMA,
    "EXPECTEDVALIDOBJECT": DccStage.SCHEMA,
    "EXPECTEDENCODE": DccStage.SCHEMA,
    "EXPECTEDVERIFY": DccStage.SIGNATURE,
    "EXPECTEDKEYUSAGE": DccStage.KEY_USAGE,
    "EXPECTEDEXPIRATIONCHECK": DccStage.VALIDITY,
}
NOT_CHECKS = {"EXPECTEDRESULTS"}
"""Flags that say nothing a verifier can check (a stray nested copy in some ES cases)."""
UPSTREAM_TEST_FLAGS = {
    "test_verification_check": "EXPECTEDVERIFY",
    "test_expiration_check": "EXPECTEDEXPIRATIONCHECK",
    "test_expected_key_usage": "EXPECTEDKEYUSAGE",
    "test_cose_schema": "EXPECTEDSCHEMAVALIDATION",
    "test_cose_json": "EXPECTEDDECODE",
    "test_cose_cbor": "EXPECTEDDECODE",
    "test_cbor_json": "EXPECTEDVALIDJSON",
    "test_compression": "EXPECTEDCOMPRESSION",
    "test_b45decode": "EXPECTEDB45DECODE",
    "test_un_prefix": "EXPECTEDUNPREFIX",
    "test_picture_decode": "EXPECTEDPICTUREDECODE",
}
"""The upstream suite's test functions, named in ``known_issues.csv``, and their flags."""


def _require(path: Path) -> Path:
    if not path.is_dir():
        pytest.skip(f"shared test data absent: {path}")
    return path


# -- EU DCC ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Per flag: checks that agreed, known issues, cases without the data, disagreements."""

    agreed: Counter[str] = field(default_factory=Counter)
    known: Counter[str] = field(default_factory=Counter)
    no_data: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    known_notes: list[str] = field(default_factory=list)


def _known_issues(directory: Path) -> set[tuple[str, str, str]]:
    """(flag or '*', country, case or '') the upstream suite expects to be wrong."""
    issues = set()
    with (directory / "known_issues.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            flag = UPSTREAM_TEST_FLAGS.get(row["test_name"], "*") if row["test_name"] else "*"
            issues.add((flag, row["country"], row["test_set"]))
    return issues


def _is_known(issues: set[tuple[str, str, str]], flag: str, country: str, case: str) -> bool:
    return any((f, country, c) in issues for f in (flag, "*") for c in (case, ""))


def _normal(value: Any) -> Any:
    """JSON-comparable form: times to UTC seconds, lists and maps order-free."""
    if isinstance(value, dict):
        return sorted((str(k), _normal(v)) for k, v in value.items())
    if isinstance(value, list):
        return sorted((_normal(v) for v in value), key=repr)
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _clock(context: dict[str, Any]) -> datetime:
    clock = datetime.fromisoformat(context["VALIDATIONCLOCK"])
    return clock if clock.tzinfo else clock.replace(tzinfo=UTC)


def _picture_text(png_base64: str) -> str | None:
    image = cv2.imdecode(np.frombuffer(base64.b64decode(png_base64), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    symbols = create_qr("zxing", bounded=False).decode(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    return symbols[0].text if symbols else None


def _store(case: dict[str, Any]) -> TrustStore:
    """A store trusting the case's DSC; empty when the verifier refuses that certificate."""
    store = TrustStore()
    certificate = case["TESTCTX"]["CERTIFICATE"]
    entry = {dcc_kid(base64.b64decode(certificate)): DccSigner(certificate=certificate)}
    with contextlib.suppress(ValueError):
        store.replace(TrustListDocument(version=1, issued_at=utc_now(), dcc_signers=entry))
    return store


def _answers(
    case: dict[str, Any], inspection: DccInspection, today: DccInspection
) -> Iterator[tuple[str, bool | None]]:
    """(flag, what the verifier found; None: the case lacks the data) for each flag."""
    for flag in case["EXPECTEDRESULTS"]:
        if flag in STAGE_OF_FLAG:
            stage = STAGE_OF_FLAG[flag]
            stages = DECODING_STAGES if flag == "EXPECTEDENCODE" else (stage,)
            yield flag, all(inspection.passed(s) for s in stages)
        elif flag == "EXPECTEDUNPREFIX":
            routed = PayloadClassifier().classify(case["PREFIX"])
            routed_ok = routed == HealthCode(HealthCodeFormat.EU_DCC, case["PREFIX"])
            yield flag, routed_ok and inspection.passed(DccStage.UNPREFIX) is True
        elif flag == "EXPECTEDVALIDJSON":
            claims = inspection.claims
            same = "JSON" not in case or _normal(claims and claims.hcert) == _normal(case["JSON"])
            yield flag, claims is not None and bool(same)
        elif flag == "EXPECTEDPICTUREDECODE":
            picture = case.get("2DCODE")
            yield flag, None if picture is None else _picture_text(picture) == case["PREFIX"]
        elif flag == "EXPTECTEDEXPIRED":
            yield flag, today.outcomes.get(DccStage.VALIDITY) is ReasonCode.EXPIRED
        elif flag not in NOT_CHECKS:
            raise AssertionError(f"unknown flag {flag}: map it to a check")


def dcc_case_files(directory: Path) -> list[Path]:
    """Every ``*/2DCode/raw/*.json`` case, folder names in any case (IE ships ``Raw``)."""
    return sorted(
        path
        for path in directory.glob("*/*/*/*.json")
        if (path.parts[-3].lower(), path.parts[-2].lower()) == ("2dcode", "raw")
    )


def promised_dcc_cases(sources: Path) -> int | None:
    """The number of DCC cases ``SOURCES.md`` says the folder holds ("(128 cases)")."""
    match = re.search(r"\((\d+) cases\)", sources.read_text("utf-8")) if sources.is_file() else None
    return int(match.group(1)) if match else None


def run_dcc(directory: Path) -> tuple[list[Path], Tally]:
    """Verify every case and compare each expected-result flag with what was found."""
    issues = _known_issues(directory)
    tally = Tally()
    cases = dcc_case_files(directory)
    for path in cases:
        case = json.loads(path.read_text("utf-8"))
        country, name = path.parts[-4], path.stem
        verifier = EuDccVerifier(_store(case))
        inspection = verifier.inspect(case["PREFIX"], _clock(case["TESTCTX"]))
        today = verifier.inspect(case["PREFIX"], datetime.now(UTC))
        for flag, found in _answers(case, inspection, today):
            expected = case["EXPECTEDRESULTS"][flag]
            label = f"{country}/{name} {flag}={expected}: verifier found {found}"
            if found is None:
                tally.no_data[flag] += 1
            elif found == expected:
                tally.agreed[flag] += 1
            elif _is_known(issues, flag, country, name):
                tally.known[flag] += 1
                tally.known_notes.append(label)
            else:
                tally.failures.append(f"{label} {dict(inspection.outcomes)}")
    return cases, tally


def dcc_summary(cases: list[Path], tally: Tally) -> str:
    """The per-flag pass counts, for the closing note of a change."""
    lines = [f"EU DCC dgc-testdata: {len(cases)} cases"]
    for flag in sorted(set(tally.agreed) | set(tally.known) | set(tally.no_data)):
        lines.append(
            f"  {flag:26s} agreed {tally.agreed[flag]:3d}  known issues {tally.known[flag]}"
            f"  no data {tally.no_data[flag]}"
        )
    lines.append("  known issues (not failed): " + "; ".join(tally.known_notes))
    lines.append(f"  disagreements: {len(tally.failures)}")
    return "\n".join(lines)


def test_eu_dcc_testdata_agrees_with_every_expected_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = _require(DCC_DIR)
    cases, tally = run_dcc(directory)
    with capsys.disabled():
        print("\n" + dcc_summary(cases, tally))
    assert not tally.failures, "\n".join(tally.failures)
    promised = promised_dcc_cases(SHARED / "SOURCES.md")
    assert promised is not None, "SOURCES.md no longer says how many DCC cases there are"
    assert len(cases) == promised
    assert tally.agreed["EXPECTEDVERIFY"] >= 80
    assert tally.agreed["EXPECTEDEXPIRATIONCHECK"] >= 40
    assert sum(tally.known.values()) == len(tally.known_notes)


def test_case_folders_are_found_in_any_letter_case(tmp_path: Path) -> None:
    for folder in ("AA/2DCode/raw", "IE/2DCode/Raw", "XX/2dcode/RAW", "YY/png/raw"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "1.json").write_text("{}")
    found = [str(p.relative_to(tmp_path)) for p in dcc_case_files(tmp_path)]
    assert found == ["AA/2DCode/raw/1.json", "IE/2DCode/Raw/1.json", "XX/2dcode/RAW/1.json"]
    sources = tmp_path / "SOURCES.md"
    sources.write_text("- Content: a subset of the folders plus `common/` (7 cases). Each …")
    assert promised_dcc_cases(sources) == 7
    assert promised_dcc_cases(tmp_path / "absent.md") is None


# -- SMART Health Cards ----------------------------------------------------------------------


def _shc_examples(directory: Path) -> list[str]:
    return sorted({p.name[:10] for p in directory.glob("example-*-d-jws.txt")})


def run_shc(directory: Path) -> tuple[list[str], Counter[str]]:
    """Verify every example; the checks each passed (an AssertionError names a failure)."""
    well_known = directory / "issuer" / ".well-known"
    examples = _shc_examples(directory)
    first = json.loads((directory / f"{examples[0]}-c-jws-payload-minified.json").read_text())
    issuers = read_shc_issuers(
        {first["iss"]: well_known / "jwks.json"}, sorted((well_known / "crl").glob("*.json"))
    )
    store = TrustStore()
    store.replace(TrustListDocument(version=1, issued_at=utc_now(), shc_issuers=issuers))
    revoked = {rid for i in issuers.values() for rids in i.revoked_rids.values() for rid in rids}
    passed: Counter[str] = Counter()
    for example in examples:
        jws = (directory / f"{example}-d-jws.txt").read_text().strip()
        texts = [p.read_text().strip() for p in sorted(directory.glob(f"{example}-f-*.txt"))]
        text = texts[0] if len(texts) == 1 else join_chunks(texts)
        assert numeric_to_jws(text) == jws, example
        passed["QR numeric text = JWS"] += 1
        card_file = json.loads((directory / f"{example}-e-file.smart-health-card").read_text())
        assert card_file["verifiableCredential"] == [jws], example
        passed["health-card file = JWS"] += 1
        card = parse_jws(jws)
        minified = json.loads((directory / f"{example}-c-jws-payload-minified.json").read_text())
        assert (
            card.claims.vc.credentialSubject.fhirBundle
            == minified["vc"]["credentialSubject"]["fhirBundle"]
        )
        passed["payload = minified JSON"] += 1
        seen = datetime.fromtimestamp(card.claims.nbf + 3600, UTC)
        result = ShcVerifier(store).verify(text, seen)
        rid = card.claims.vc.rid
        cut = [r.partition(".")[2] for r in revoked if r.partition(".")[0] == rid]
        is_revoked = any(not c or card.claims.nbf < float(c) for c in cut)
        expected = [ReasonCode.REVOKED] if is_revoked else []
        assert (result.reason_codes, result.colour is not None) == (expected, True), example
        passed["signature verifies"] += 1
        passed["revoked as the CRL says" if is_revoked else "valid, not revoked"] += 1
        immunizations = card.claims.completed_immunizations()
        colour = CodeColour.GREEN if immunizations >= 2 else CodeColour.YELLOW
        assert result.colour is colour, example
        if len(texts) > 1:
            for chunk in texts:
                chunk_result = ShcVerifier(store).verify(chunk, seen)
                assert chunk_result.reason_codes == [ReasonCode.UNSUPPORTED], example
            passed["single chunk unsupported"] += 1
        flipped = "B" if jws[-10] == "A" else "A"
        tampered = ShcVerifier(store).verify(numeric(jws[:-10] + flipped + jws[-9:]), seen)
        assert tampered.reason_codes == [ReasonCode.BAD_SIGNATURE], example
        passed["tampered copy refused"] += 1
    return examples, passed


def shc_summary(examples: list[str], passed: Counter[str]) -> str:
    """The per-check pass counts, for the closing note of a change."""
    lines = [f"SMART Health Card examples: {len(examples)}"]
    lines += [f"  {check:26s} {count}" for check, count in passed.items()]
    return "\n".join(lines)


def test_smart_health_card_examples_verify_with_the_issuers_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    examples, passed = run_shc(_require(SHC_DIR))
    with capsys.disabled():
        print("\n" + shc_summary(examples, passed))
    assert len(examples) >= 4
    assert passed["signature verifies"] == len(examples)


def main() -> int:
    """Print the pass counts of both vector sets; 1 on a disagreement, 0 otherwise."""
    if not SHARED.is_dir():
        print(f"shared test data absent: {SHARED.resolve()}")
        return 0
    failed = False
    if DCC_DIR.is_dir():
        cases, tally = run_dcc(DCC_DIR)
        print(dcc_summary(cases, tally))
        print(f"  SOURCES.md promises {promised_dcc_cases(SHARED / 'SOURCES.md')} cases")
        failed = bool(tally.failures)
    if SHC_DIR.is_dir():
        print(shc_summary(*run_shc(SHC_DIR)))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
