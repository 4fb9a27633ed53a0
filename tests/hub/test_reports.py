"""Self-report through a report code: tokens, the form, merge, risk, task, alert, poster."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import String, func, select
from stdnum.cn import ric
from typer.testing import CliRunner

from edge.decoders.qr import registry as qr_registry
from hub.api.main import create_app
from hub.cli import app as hub_cli
from hub.codes.verify import TrustListFileError
from hub.config import HubSettings
from hub.ledger.idnumber import HolderHasher, mask_canonical
from hub.push.log import LogSender
from hub.reports.desk import CLIENT_RATE, PHONE_RATE, ReportDesk
from hub.reports.form import ReportInput, check_report, normalise_phone
from hub.reports.photo import RECORD_CHARS, VERIFIED_FORMATS, HealthCodeReader
from hub.reports.ratelimit import Rate, TokenBuckets
from hub.reports.risk import RiskLevel, RiskListError, import_risk_list, parse_risk_csv
from hub.reports.tokens import (
    ReportScope,
    ReportTokenError,
    sign_report_token,
    verify_report_token,
)
from hub.store import Store
from hub.store.alert_tables import AlertRow
from hub.store.ledger_tables import AddressRow, ResidentRow
from hub.store.report_tables import ReportRow
from hub.store.task_tables import TaskRow
from models.base import utc_now
from models.events import ReasonCode
from tests.hub.conftest import TEST_SECRET
from tests.support.grids import seed_grids
from tests.support.passes import Issuer, trust_store, trusted_site

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = "identity-key-for-report-tests-0123456789"


def with_check_digit(first17: str) -> str:
    """A resident ID number: ``first17`` and its check digit."""
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum drops the last character


RESIDENT_ID = with_check_digit("11010119900307451")
VISITOR_ID = with_check_digit("11010519850612003")
ADDRESSES = [
    ("XTL-096-03-2-301", "新塘里", "96", "G-A"),
    ("XTL-012-01-1-101", "新塘里", "12", "G-A"),
    ("JSL-096-01-1-101", "建设路", "96", "G-B"),
]


def risk_csv(today: Any) -> str:
    """A risk list in force around ``today``: one high, one medium, one low region."""
    start, end = today - timedelta(days=30), today + timedelta(days=30)
    return (
        "region_code,name,level,valid_from,valid_to\n"
        f"310115,上海市浦东新区,high,{start},{end}\n"
        f"440305,深圳市南山区,medium,{start},{end}\n"
        f"330106,杭州市西湖区,low,{start},{end}\n"
    )


def seed_report_ledger(store: Store) -> None:
    """Grids G-A (worker W-A) and G-B (W-B), three addresses, one resident, a risk list."""
    seed_grids(store)
    now = utc_now()
    with store.transaction() as session:
        for code, street, number, grid in ADDRESSES:
            session.add(
                AddressRow(
                    address_code=code, street=street, number=number, building="", unit="",
                    room="", grid_id=grid,
                )
            )  # fmt: skip
        session.flush()
        session.add(
            ResidentRow(
                resident_id="R-1",
                holder_ref=HolderHasher(IDENTITY.encode())(RESIDENT_ID),
                id_masked=mask_canonical(RESIDENT_ID),
                name="张伟",
                address_code="XTL-096-03-2-301",
                role="resident",
                created_at=now,
                updated_at=now,
            )
        )
        import_risk_list(session, parse_risk_csv(risk_csv(now.date())))


class SentMessages:
    """The SMS log driver's messages, read once the desk's message worker is idle."""

    def __init__(self, desk: ReportDesk, sender: LogSender) -> None:
        self.desk, self.sender = desk, sender

    @property
    def sent(self) -> list[tuple[str, str]]:
        assert self.desk.messenger.wait_idle(10)
        return self.sender.sent


def report_app(
    store: Store, data_dir: Path, *, client_rate: Rate = CLIENT_RATE, phone_rate: Rate = PHONE_RATE
) -> tuple[TestClient, SentMessages]:
    """The hub API on ``store`` with a report desk whose SMS log driver the test reads."""
    settings = HubSettings(
        data_dir=data_dir, database_url="sqlite://", secret_key=TEST_SECRET, identity_key=IDENTITY
    )
    app = create_app(settings, store)
    sender = LogSender()
    desk = ReportDesk(
        store,
        sender,
        settings.zone,
        HolderHasher(IDENTITY.encode()),
        client_rate=client_rate,
        phone_rate=phone_rate,
    )
    app.state.reports = desk
    return TestClient(app), SentMessages(desk, sender)


def token_for(grid: str | None, days: float = 30) -> str:
    """A report code for ``grid`` (None: the district) valid for ``days``."""
    return sign_report_token(ReportScope(grid, utc_now() + timedelta(days=days)), TEST_SECRET)


def form_data(**changes: Any) -> dict[str, Any]:
    """A valid report from the visitor, arrived today, from the high-risk region."""
    data: dict[str, Any] = {
        "name": "李娜",
        "id_number": VISITOR_ID,
        "phone": "138 0013 8000",
        "arrived": "yes",
        "arrival_date": str(utc_now().date()),
        "address": "新塘里12号",
        "address_code": "XTL-012-01-1-101",
        "regions": ["310115"],
        "consent": "yes",
    }
    data.update(changes)
    return data


@pytest.fixture
def ledger(store: Store) -> Store:
    seed_report_ledger(store)
    return store


@pytest.fixture
def client(ledger: Store, tmp_path: Path) -> Iterator[tuple[TestClient, SentMessages]]:
    test_client, sender = report_app(ledger, tmp_path)
    with test_client:
        yield test_client, sender
    sender.desk.close()


def _count(store: Store, table: Any) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


# --- tokens -----------------------------------------------------------------------------


def test_a_token_names_its_grid_and_is_refused_when_forged_or_expired() -> None:
    now = utc_now()
    token = sign_report_token(ReportScope("G-A", now + timedelta(days=1)), TEST_SECRET)
    assert verify_report_token(token, TEST_SECRET, now).grid_id == "G-A"
    district = sign_report_token(ReportScope(None, now + timedelta(days=1)), TEST_SECRET)
    assert verify_report_token(district, TEST_SECRET, now).grid_id is None
    payload, mac = token.split(".")
    other = sign_report_token(ReportScope("G-B", now + timedelta(days=1)), TEST_SECRET)
    cases = {
        "forged": [
            sign_report_token(ReportScope("G-A", now + timedelta(days=1)), "x" * 40),
            f"{other.split('.')[0]}.{mac}",
        ],
        "malformed": ["", "abc", f"{payload}.{mac}.x", f"{payload}.!!", "a" * 300],
    }
    for reason, tokens in cases.items():
        for bad in tokens:
            with pytest.raises(ReportTokenError) as refused:
                verify_report_token(bad, TEST_SECRET, now)
            assert refused.value.reason == reason, bad
    with pytest.raises(ReportTokenError, match="expired"):
        verify_report_token(token, TEST_SECRET, now + timedelta(days=2))
    with pytest.raises(ValueError):
        sign_report_token(ReportScope("bad grid id with spaces", now), TEST_SECRET)


# --- fields -----------------------------------------------------------------------------


def test_fields_are_checked_one_by_one() -> None:
    today = utc_now().date()
    hasher = HolderHasher(IDENTITY.encode())
    bad = ReportInput(
        name="",
        id_number=VISITOR_ID[:-1] + ("0" if VISITOR_ID[-1] != "0" else "1"),
        phone="12345",
        arrived="yes",
        arrival_date=str(today + timedelta(days=1)),
        address="",
        regions=("999999",),
    )
    errors = check_report(bad, today=today, hasher=hasher, regions={"310115"})
    assert errors == {
        "name": "name_required",
        "id_number": "id_invalid",
        "phone": "phone_invalid",
        "arrival_date": "date_arrived_future",
        "address": "address_required",
        "regions": "regions_unknown",
        "consent": "consent_required",
    }
    for when, key in ((-15, "date_too_old"), (31, "date_too_far"), (-1, "date_expected_past")):
        raw = ReportInput(arrived="no", arrival_date=str(today + timedelta(days=when)))
        assert check_report(raw, today=today, hasher=hasher, regions=set())["arrival_date"] == key  # type: ignore[index]
    assert normalise_phone("+86 138-0013-8000") == "13800138000"
    assert normalise_phone("12800138000") is None
    assert normalise_phone("1380013800") is None


def test_the_risk_list_refuses_bad_rows_and_the_sample_reads() -> None:
    header = "region_code,name,level,valid_from,valid_to\n"
    for bad in (
        "code,name\n",
        header + "310115,浦东,extreme,2026-01-01,2026-12-31\n",
        header + "310115,浦东,high,2026-12-31,2026-01-01\n",
        header + "31 01,浦东,high,2026-01-01,2026-12-31\n",
        header + "310115,浦东,high,yesterday,2026-12-31\n",
    ):
        with pytest.raises(RiskListError):
            parse_risk_csv(bad)
    sample = parse_risk_csv((ROOT / "deploy/config/regions.sample.csv").read_text("utf-8"))
    assert {r.level for r in sample} == {RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW}


def test_token_buckets_refill_per_key() -> None:
    buckets = TokenBuckets(Rate(burst=2, every_s=10))
    assert [buckets.take("a", 0.0) for _ in range(3)] == [True, True, False]
    assert buckets.take("b", 0.0)
    assert not buckets.take("a", 5.0)
    assert buckets.take("a", 15.0)


# --- the pages --------------------------------------------------------------------------


def test_a_forged_or_expired_code_gets_a_clear_page(
    client: tuple[TestClient, SentMessages],
) -> None:
    http, sender = client
    forged = sign_report_token(ReportScope("G-A", utc_now() + timedelta(days=1)), "y" * 40)
    page = http.get(f"/r/{forged}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 403
    assert "not valid" in page.text and 'id="refused"' in page.text
    assert http.post(f"/r/{forged}", data=form_data()).status_code == 403
    expired = token_for("G-A", days=-1)
    page = http.get(f"/r/{expired}?lang=zh")
    assert page.status_code == 410 and "已过期" in page.text
    assert sender.sent == []


def test_the_form_speaks_chinese_or_english_and_lists_the_regions(
    client: tuple[TestClient, SentMessages],
) -> None:
    http, _ = client
    page = http.get(f"/r/{token_for('G-A')}")
    assert page.status_code == 200 and "身份证号" in page.text and "上海市浦东新区" in page.text
    assert "script-src 'nonce-" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    english = http.get(f"/r/{token_for('G-A')}", headers={"Accept-Language": "en-US"})
    assert "ID number" in english.text and "high risk" in english.text


def test_a_high_risk_report_messages_the_reporter_tasks_the_worker_and_raises_an_alert(
    client: tuple[TestClient, SentMessages], ledger: Store
) -> None:
    http, sender = client
    done = http.post(f"/r/{token_for('G-A')}", data=form_data())
    assert done.status_code == 200, done.text
    assert 'data-risk="high"' in done.text
    assert len(sender.sent) == 1
    phone, text = sender.sent[0]
    assert phone == "13800138000" and "高风险" in text and "李娜" in text
    with ledger.sessions() as session:
        report = session.scalars(select(ReportRow)).one()
        task = session.scalars(select(TaskRow)).one()
        alert = session.scalars(select(AlertRow)).one()
    assert report.grid_id == "G-A" and report.risk_level == "high"
    assert report.address_code == "XTL-012-01-1-101" and report.resident_id is None
    assert report.id_masked == mask_canonical(VISITOR_ID)
    assert VISITOR_ID not in repr(vars(report))
    assert (task.kind, task.grid_id, task.worker_id) == ("report_followup", "G-A", "W-A")
    assert task.subject == f"report:{report.report_id}" and report.task_id == task.task_id
    assert (alert.rule, alert.grid_id, alert.state) == ("report_high_risk", "G-A", "open")
    assert alert.alert_id == report.alert_id and VISITOR_ID not in alert.summary


def test_a_resident_reporting_with_free_text_is_matched_to_the_ledger(
    client: tuple[TestClient, SentMessages], ledger: Store
) -> None:
    http, sender = client
    data = form_data(id_number=RESIDENT_ID, address="新塘里96号", address_code="", regions=[])
    assert http.post(f"/r/{token_for('G-A')}", data=data).status_code == 200
    with ledger.sessions() as session:
        report = session.scalars(select(ReportRow)).one()
    assert (report.resident_id, report.risk_level, report.address_code) == ("R-1", "none", None)
    assert "高风险" not in sender.sent[0][1]
    assert _count(ledger, AlertRow) == 0


def test_a_bad_id_checksum_is_a_field_error_and_nothing_is_stored(
    client: tuple[TestClient, SentMessages], ledger: Store
) -> None:
    http, sender = client
    wrong = VISITOR_ID[:-1] + ("0" if VISITOR_ID[-1] != "0" else "1")
    page = http.post(f"/r/{token_for('G-A')}?lang=en", data=form_data(id_number=wrong))
    assert page.status_code == 422
    assert 'id="err-id_number"' in page.text and "check digit" in page.text
    assert 'value="李娜"' in page.text and 'value="310115" checked' in page.text
    assert "err-phone" not in page.text
    assert (_count(ledger, ReportRow), _count(ledger, TaskRow), sender.sent) == (0, 0, [])


def test_an_address_of_another_grid_or_an_unknown_one_is_refused(
    client: tuple[TestClient, SentMessages], ledger: Store
) -> None:
    http, _ = client
    other_grid = form_data(address="建设路96号", address_code="JSL-096-01-1-101")
    page = http.post(f"/r/{token_for('G-A')}", data=other_grid)
    assert page.status_code == 422 and 'id="err-address"' in page.text
    free_text = form_data(address="无名路1号", address_code="")
    page = http.post(f"/r/{token_for(None)}", data=free_text)
    assert page.status_code == 422 and "请从提示中选择台账地址" in page.text
    assert _count(ledger, ReportRow) == 0
    picked = form_data(address="建设路96号", address_code="JSL-096-01-1-101")
    assert http.post(f"/r/{token_for(None)}", data=picked).status_code == 200
    with ledger.sessions() as session:
        assert session.scalars(select(TaskRow.worker_id)).one() == "W-B"


def test_a_repeated_report_is_merged(
    client: tuple[TestClient, SentMessages], ledger: Store
) -> None:
    http, sender = client
    token = token_for("G-A")
    assert http.post(f"/r/{token}", data=form_data()).status_code == 200
    again = form_data(phone="13900139000", regions=["440305"])
    assert http.post(f"/r/{token}", data=again).status_code == 200
    with ledger.sessions() as session:
        report = session.scalars(select(ReportRow)).one()
        alert = session.scalars(select(AlertRow)).one()
    assert (report.submissions, report.phone, report.risk_level) == (2, "13900139000", "medium")
    assert _count(ledger, TaskRow) == 1 and alert.repeat_count == 1
    assert "中风险" in sender.sent[1][1]


def test_addresses_are_suggested_within_the_grid(client: tuple[TestClient, SentMessages]) -> None:
    http, _ = client
    found = http.get(f"/r/{token_for('G-A')}/addresses", params={"q": "新塘里96"}).json()
    assert found[0]["code"] == "XTL-096-03-2-301"
    across = http.get(f"/r/{token_for('G-A')}/addresses", params={"q": "建设路96号"}).json()
    assert "JSL-096-01-1-101" not in {a["code"] for a in across}
    forged = sign_report_token(ReportScope("G-A", utc_now() + timedelta(days=1)), "z" * 40)
    assert http.get(f"/r/{forged}/addresses", params={"q": "新塘里"}).status_code == 403


def test_submissions_are_rate_limited_per_client_and_per_phone(
    ledger: Store, tmp_path: Path
) -> None:
    http, _ = report_app(ledger, tmp_path, client_rate=Rate(2, 3600))
    token = token_for("G-A")
    codes = [http.post(f"/r/{token}", data=form_data()).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    http, _ = report_app(ledger, tmp_path, phone_rate=Rate(1, 3600))
    assert http.post(f"/r/{token}", data=form_data()).status_code == 200
    page = http.post(f"/r/{token}?lang=en", data=form_data())
    assert page.status_code == 429 and "Too many" in page.text


def test_a_health_code_photo_is_decoded_and_bad_uploads_are_refused(
    client: tuple[TestClient, SentMessages], ledger: Store, tmp_path: Path
) -> None:
    http, _ = client
    photo = tmp_path / "pass.png"
    segno.make(Issuer().issue(), error="m").save(str(photo), scale=6, border=4)
    token = token_for("G-A")
    files = {"health_code": ("pass.png", photo.read_bytes(), "image/png")}
    assert http.post(f"/r/{token}", data=form_data(), files=files).status_code == 200
    with ledger.sessions() as session:
        assert session.scalars(select(ReportRow.health_code)).one() == "gridgate"
    junk = {"health_code": ("x.png", b"not an image", "image/png")}
    page = http.post(f"/r/{token}", data=form_data(), files=junk)
    assert page.status_code == 422 and 'id="err-health_code"' in page.text
    huge = {"health_code": ("x.png", b"\0" * (5 * 1024 * 1024), "image/png")}
    assert http.post(f"/r/{token}", data=form_data(), files=huge).status_code == 413


def _photo(token: str, path: Path) -> bytes:
    segno.make(token, error="m").save(str(path), scale=6, border=4)
    return path.read_bytes()


def test_a_pass_photo_is_verified_against_the_hubs_trust_list(tmp_path: Path) -> None:
    issuer = Issuer(kid="health-office")
    forger = Issuer(kid=issuer.kid)  # another key under the trusted kid
    reader = HealthCodeReader(trust=trust_store(issuer, revoked=("p-gone",)))
    cases = {
        "valid": issuer.issue(),
        "bad_signature": forger.issue(),
        "expired": issuer.issue(valid_from=time.time() - 7200, valid_for_s=3600),
        "revoked": issuer.issue(pass_id="p-gone"),
        "unknown_issuer": Issuer(kid="elsewhere").issue(),
    }
    for verdict, token in cases.items():
        assert reader.read(_photo(token, tmp_path / f"{verdict}.png")) == f"gridgate:{verdict}"
    unchecked = HealthCodeReader()  # no trust list: the format only, as before
    assert unchecked.read(_photo(forger.issue(), tmp_path / "f.png")) == "gridgate"
    offline = set(ReasonCode) - {ReasonCode.PLATFORM_UNREACHABLE}
    longest = max(len(f"{f}:{r}") for f in VERIFIED_FORMATS for r in offline)
    column = ReportRow.__table__.c.health_code.type
    assert isinstance(column, String) and longest <= RECORD_CHARS == column.length


def test_a_forged_pass_photo_is_recorded_as_forged(ledger: Store, tmp_path: Path) -> None:
    """The hub's desk verifies against the signed trust list its settings name."""
    site = trusted_site(tmp_path / "signed")
    settings = HubSettings(
        data_dir=tmp_path,
        database_url="sqlite://",
        secret_key=TEST_SECRET,
        identity_key=IDENTITY,
        trust_list_file=site.data_dir / "trust.json",
    )
    app = create_app(settings, ledger)
    desk = ReportDesk.for_hub(settings, ledger, LogSender(), None)
    app.state.reports = desk
    forged = _photo(Issuer(kid=site.issuer.kid).issue(), tmp_path / "forged.png")
    try:
        with TestClient(app) as http:
            files = {"health_code": ("pass.png", forged, "image/png")}
            assert http.post(f"/r/{token_for('G-A')}", data=form_data(), files=files).is_success
    finally:
        desk.close()
    with ledger.sessions() as session:
        assert session.scalars(select(ReportRow.health_code)).one() == "gridgate:bad_signature"


def test_a_trust_list_file_that_does_not_parse_stops_the_desk(tmp_path: Path) -> None:
    broken = tmp_path / "trust.json"
    broken.write_text("{not json", encoding="utf-8")
    settings = HubSettings(
        data_dir=tmp_path,
        database_url="sqlite://",
        secret_key=TEST_SECRET,
        identity_key=IDENTITY,
        trust_list_file=broken,
    )
    with pytest.raises(TrustListFileError, match=r"trust\.json"):
        ReportDesk.for_hub(settings, Store.open("sqlite://"), LogSender(), None)


# --- the command line -------------------------------------------------------------------


def test_the_poster_files_are_written_and_the_png_decodes_to_the_url(tmp_path: Path) -> None:
    out = tmp_path / "poster"
    args = ["codes", "report", "--grid", "G-A", "--base-url", "https://hub.example.cn/"]
    result = CliRunner().invoke(
        hub_cli, [*args, "--out", str(out)], env={"GRIDGATE_HUB_SECRET_KEY": TEST_SECRET}
    )
    assert result.exit_code == 0, result.output
    url = result.output.splitlines()[0]
    assert re.fullmatch(r"https://hub\.example\.cn/r/[\w-]+\.[\w-]+", url)
    scope = verify_report_token(url.rsplit("/", 1)[1], TEST_SECRET, utc_now())
    assert scope.grid_id == "G-A"
    assert (out / "report-code.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "report-code.svg").read_text("utf-8").lstrip().startswith("<?xml")
    image = cv2.imread(str(out / "report-code.png"), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    symbols = qr_registry.create("zxing").decode(image)
    assert [s.text for s in symbols] == [url]
    refused = CliRunner().invoke(hub_cli, [*args, "--out", str(out)], env={})
    assert refused.exit_code == 2


def test_risk_import_replaces_the_list(tmp_path: Path, db_url: str) -> None:
    listing = tmp_path / "regions.csv"
    listing.write_text(risk_csv(utc_now().date()), "utf-8")
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(hub_cli, ["risk", "import", str(listing), "--database-url", db_url])
        assert result.exit_code == 0, result.output
    store = Store.open(db_url)
    try:
        from hub.store.report_tables import RiskRegionRow

        assert _count(store, RiskRegionRow) == 3
    finally:
        store.close()
    listing.write_text("region_code,name\n1,x\n", "utf-8")
    bad = runner.invoke(hub_cli, ["risk", "import", str(listing), "--database-url", db_url])
    assert bad.exit_code == 2
