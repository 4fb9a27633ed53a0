"""The report-code form in a real browser at a phone's size: suggestions, field errors, thanks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select

from hub.api.main import create_app
from hub.broker import free_port
from hub.config import HubSettings
from hub.ledger.idnumber import HolderHasher
from hub.push.log import LogSender
from hub.reports.desk import ReportDesk
from hub.store import Store
from hub.store.report_tables import ReportRow
from models.base import utc_now
from tests.edge.helpers import wait_for
from tests.hub.conftest import TEST_SECRET
from tests.hub.test_reports import IDENTITY, VISITOR_ID, seed_report_ledger, token_for

PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass
class ReportSite:
    """A served hub API with a seeded ledger, and the SMS log driver of its report desk."""

    store: Store
    sender: LogSender
    base: str


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ReportSite]:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    seed_report_ledger(store)
    settings = HubSettings(
        data_dir=tmp_path, database_url="sqlite://", secret_key=TEST_SECRET, identity_key=IDENTITY
    )
    app = create_app(settings, store)
    sender = LogSender()
    app.state.reports = ReportDesk(store, sender, settings.zone, HolderHasher(IDENTITY.encode()))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, name="test-report-api", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 15, "the API to listen")
        yield ReportSite(store, sender, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


def _fill(page: Page, id_number: str) -> None:
    page.fill("#name", "李娜")
    page.fill("#id_number", id_number)
    page.fill("#phone", "13800138000")
    page.check("input[name=arrived][value=yes]")
    page.fill("#arrival_date", str(utc_now().astimezone(ZoneInfo("Asia/Shanghai")).date()))
    page.fill("#address", "新塘里12")
    page.locator("#sugg button", has_text="新塘里12号").click()
    page.check("input[name=regions][value='310115']")
    page.check("#consent")


def test_a_report_on_a_phone(browser: Browser, site: ReportSite, screenshots: Path) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(  # CSP violations and script errors; the refused form's 422 is expected
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "status of 422" not in msg.text
            else None
        ),
    )
    page.goto(f"{site.base}/r/{token_for('G-A')}")
    expect(page.locator("h1")).to_have_text("返乡/来访人员报备")
    wrong = VISITOR_ID[:-1] + ("0" if VISITOR_ID[-1] != "0" else "1")
    _fill(page, wrong)
    expect(page.locator("#address_code")).to_have_value("XTL-012-01-1-101")
    page.click("button[type=submit]")
    expect(page.locator("#err-id_number")).to_contain_text("身份证号不正确")
    expect(page.locator("#name")).to_have_value("李娜")
    expect(page.locator("input[name=regions][value='310115']")).to_be_checked()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the form scrolls sideways on a phone"
    page.screenshot(path=str(screenshots / "report-form.png"), full_page=True)
    page.fill("#id_number", VISITOR_ID)
    page.click("button[type=submit]")
    expect(page.locator("#thanks")).to_have_attribute("data-risk", "high")
    assert errors == []
    with site.store.sessions() as session:
        report = session.scalars(select(ReportRow)).one()
    assert (report.grid_id, report.address_code) == ("G-A", "XTL-012-01-1-101")
    wait_for(lambda: bool(site.sender.sent), 10, "the reporter's SMS (sent after commit)")
    assert [target for target, _ in site.sender.sent] == ["13800138000"]
    context.close()


def test_a_forged_code_shows_the_refusal(browser: Browser, site: ReportSite) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    response = page.goto(f"{site.base}/r/{token_for('G-A')[:-2]}xx")
    assert response is not None and response.status == 403
    expect(page.locator("#refused")).to_contain_text("not valid")
    context.close()
