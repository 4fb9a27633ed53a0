"""The dashboard in a real browser: log in, see a live alert arrive, acknowledge and resolve it.

A real hub (SQLite, its own Mosquitto) serves the page; passages are published over MQTT
as an edge would, so the alert travels gate → MQTT → ingest → match → alert → SSE → page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from hub.app import Hub
from hub.auth.roles import Role
from hub.ledger import sample
from hub.store.ledger_tables import ResidentRow
from models import ComponentVersions, DeviceStatus, encode, topics
from models.base import new_id, utc_now
from models.events import (
    CodeColour,
    Direction,
    FaceObservation,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    HealthCodeObservation,
    Observation,
    PassageEvent,
    VerificationStatus,
)
from models.identity import mask_name
from models.status import DeviceWarning
from tests.hub.conftest import make_settings
from tests.support.broker import MosquittoBroker
from tests.support.groups import seed_market
from tests.support.hub_publisher import HubPublisher
from tests.support.hub_server import serving
from tests.support.logins import PASSWORD, add_login

IDENTITY = b"identity-key-for-browser-tests-000000"
STRANGER = np.random.default_rng(5).normal(0, 0.1, 128)


class Gate:
    """A running hub with a sample ledger, an operator and a grid worker, and a gate to publish."""

    def __init__(self, hub: Hub, port: int, publisher: HubPublisher, site: str, grid: str) -> None:
        self.hub, self.port, self.publisher, self.site, self.grid = hub, port, publisher, site, grid
        self.url = f"http://127.0.0.1:{port}/"

    def stale_gate(self, device_id: str) -> None:
        """A gate whose trust list has not been refreshed for a day reports so."""
        status = DeviceStatus(
            device_id=device_id,
            site_id=self.site,
            online=True,
            reported_at=utc_now(),
            versions=ComponentVersions(agent="test", trust_list="3"),
            trust_synced_at=utc_now() - timedelta(hours=30),
            warnings=[DeviceWarning.TRUST_LIST_STALE],
        )
        self.publisher.publish_raw(topics.status(self.site, device_id), encode(status), retain=True)

    def stranger_passes(self, track_id: int = 1, site: str | None = None) -> None:
        face = FaceObservation(
            track_id=track_id,
            encoding=[float(v) for v in STRANGER],
            quality=0.9,
            seen_at=utc_now(),
        )
        self.passes([face], GateAction.OBSERVE, site)

    def resident_passes(self, holder_ref: str) -> None:
        """A resident shows a valid green pass and the gate opens."""
        code = HealthCodeObservation(
            format=HealthCodeFormat.GRIDGATE,
            status=VerificationStatus.VALID,
            colour=CodeColour.GREEN,
            holder_ref=holder_ref,
            seen_at=utc_now(),
        )
        self.passes([code], GateAction.OPEN)

    def passes(
        self, observations: list[Observation], action: GateAction, site: str | None = None
    ) -> None:
        site = site or self.site
        event = PassageEvent(
            event_id=new_id(),
            device_id="gate-01",
            site_id=site,
            gate_id=f"{site}-entry",
            direction=Direction.ENTRY,
            occurred_at=utc_now(),
            observations=observations,
            decision=GateDecision(action=action),
        )
        self.publisher.publish(event)
        assert self.publisher.wait_settled(15)


@pytest.fixture
def gate(broker: MosquittoBroker, tmp_path: Path) -> Iterator[Gate]:
    settings = make_settings(broker, f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub")
    hub = Hub(settings)
    generated = sample.generate(20, seed=3)
    sample.load(hub.store, generated, IDENTITY)
    site, grid = generated.sites[0]["site_id"], generated.sites[0]["grid_id"]
    worker = next(w["worker_id"] for w in generated.workers if w["grid_ids"] == grid)
    add_login(hub.store, "operator", Role.OPERATOR)
    add_login(hub.store, "worker", Role.GRID_WORKER, worker_id=worker)
    publisher = HubPublisher(broker.host, broker.port)
    with serving(hub) as port:
        publisher.start()
        publisher.announce(site, "gate-01")
        try:
            yield Gate(hub, port, publisher, site, grid)
        finally:
            publisher.stop()


def log_in(page: Page, url: str, username: str, *, live: bool = True) -> None:
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "wrong-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).not_to_be_empty()
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#app-view")).to_be_visible()
    if live:  # the alert stream is open
        expect(page.locator("#live")).not_to_have_class("live off")


def test_operator_sees_a_live_alert_acknowledges_and_resolves_it(
    browser: Browser, gate: Gate, screenshots: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    try:
        log_in(page, gate.url, "operator")
        expect(page.locator("#feed-empty")).to_be_visible()
        gate.stranger_passes()  # published after the page loaded: it must arrive live
        card = page.locator("li[data-rule=unregistered_person]")
        expect(card).to_have_count(1, timeout=15_000)
        expect(card).to_have_attribute("data-state", "open")
        expect(card).to_contain_text("未登记人员")
        expect(card.locator(".summary")).to_have_text(
            f"{gate.site}/{gate.site}-entry（进） 出现未登记人脸"
        )
        expect(page.locator("#alert-count")).to_have_text("1")
        page.screenshot(path=screenshots / "01-live-alert.png", full_page=True)

        card.locator("[data-action=acknowledge]").click()
        expect(card).to_have_attribute("data-state", "acknowledged")
        card.locator("select[data-field=step]").select_option("door_visit")
        card.locator("input[data-field=note]").fill("上门未遇，已留言")
        card.locator("[data-action=sweep]").click()
        expect(card).to_have_attribute("data-state", "in_progress")
        card.locator("[data-action=details]").click()
        detail = page.locator("#alert-detail")
        swept = detail.locator("ol.audit li[data-action='sweep:door_visit']")
        expect(swept).to_contain_text("走访 · 上门（留言） 上门未遇，已留言")
        expect(detail.locator("ol.audit li[data-action=raised]")).to_contain_text("出现未登记人脸")
        expect(detail).to_contain_text(f"{gate.site}-entry")
        expect(detail).to_contain_text("#1 未比对 q=0.90")
        expect(detail).to_contain_text("仅记录")  # the gate's action, observe
        expect(detail).not_to_contain_text("null")
        expect(detail).not_to_contain_text("not_checked")
        page.screenshot(path=screenshots / "02-in-progress-detail.png", full_page=True)

        page.click("#lang")
        expect(card).to_contain_text("Unregistered person")
        card.locator("select[data-field=resolution]").select_option("false_alarm")
        card.locator("[data-action=resolve]").click()
        expect(page.locator("li[data-rule=unregistered_person]")).to_have_count(0)
        expect(page.locator("#feed-empty")).to_be_visible()
        page.screenshot(path=screenshots / "03-resolved.png", full_page=True)

        gate.stale_gate("gate-02")
        page.click("[data-tab=devices]")
        expect(page.locator("#device-table tr[data-device-id=gate-01]")).to_contain_text("online")
        stale = page.locator("#device-table tr[data-device-id=gate-02] td.warnings")
        expect(stale).to_have_text("trust list stale")
        page.click("[data-tab=coverage]")
        expect(page.locator(f"#coverage-table tr[data-grid-id={gate.grid}]")).to_be_visible()
        page.screenshot(path=screenshots / "04-coverage.png", full_page=True)

        page.click("[data-tab=tasks]")  # the hub's daily timer may have generated them already
        page.click("#generate-tasks")
        tasks = page.locator("li.task[data-kind=test_overdue]")  # the 2022 sample's tests
        expect(tasks.first).to_be_visible()
        first = tasks.first
        task_id = first.get_attribute("data-task-id")
        first.locator("[data-result=reached]").click()
        expect(page.locator(f"li[data-task-id='{task_id}']")).to_have_attribute(
            "data-status", "done"
        )
        page.click("[data-tab=reports]")
        report = page.locator(f"#report-table tr[data-grid-id={gate.grid}]")
        expect(report).to_contain_text("1/")
        expect(page.locator(f"#report-table tr[data-site-id={gate.site}]")).to_be_visible()
        with page.expect_download() as download:
            page.click("[data-download=xlsx]")
        assert download.value.suggested_filename == "close-out.xlsx"
        page.screenshot(path=screenshots / "05-daily-close-out.png", full_page=True)
    finally:
        page.close()
    token = httpx.post(
        f"{gate.url}api/auth/token", data={"username": "operator", "password": PASSWORD}
    ).json()["access_token"]
    stored = httpx.get(f"{gate.url}api/alerts", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(a["state"], a["resolution"]) for a in stored] == [("resolved", "false_alarm")]


def test_grid_worker_phone_view_shows_their_alerts_without_operator_tabs(
    browser: Browser, gate: Gate, screenshots: Path
) -> None:
    gate.stranger_passes()
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        log_in(page, gate.url, "worker")
        expect(page.locator("li[data-rule=unregistered_person]")).to_have_count(1)
        expect(page.locator("[data-tab=devices]")).to_be_hidden()
        page.locator("[data-action=acknowledge]").click()
        expect(page.locator("li[data-rule=unregistered_person]")).to_have_attribute(
            "data-state", "acknowledged"
        )
        page.screenshot(path=screenshots / "06-grid-worker-phone.png", full_page=True)
    finally:
        page.close()


def test_group_admin_sees_the_members_codes_at_a_glance(
    browser: Browser, gate: Gate, screenshots: Path
) -> None:
    seed_market(gate.hub.store)
    add_login(gate.hub.store, "market-admin", Role.GROUP_ADMIN, group_id="market-1")
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        log_in(page, gate.url, "market-admin", live=False)
        expect(page.locator("[data-tab=alerts]")).to_be_hidden()
        rows = page.locator("#group-table tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.first).to_have_class("code-red")
        expect(page.locator("#group-summary")).to_contain_text("红码 1")
        page.screenshot(path=screenshots / "07-group-codes.png", full_page=True)
    finally:
        page.close()


def test_a_door_plate_opens_the_household_file_on_a_phone(
    browser: Browser, gate: Gate, screenshots: Path
) -> None:
    with gate.hub.store.sessions() as session:
        code = session.scalars(
            select(ResidentRow.address_code).where(ResidentRow.address_code.is_not(None))
        ).first()
    assert code is not None
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page.goto(f"{gate.url}a/{code}")  # what the phone camera opens from the plate
        log_in(page, page.url, "worker")
        expect(page.locator("#tab-household")).to_be_visible()
        expect(page.locator("#household-meta")).to_contain_text(code)
        expect(page.locator("#household-residents li").first).to_be_visible()
        form = page.locator("#visit-form")
        form.locator("select[name=step]").select_option("door_visit")
        form.locator("select[name=result]").select_option("reached")
        form.locator("input[name=note]").fill("见到本人，已登记")
        form.locator("button[type=submit]").click()
        expect(page.locator("#household-visits li[data-result=reached]")).to_contain_text(
            "见到本人"
        )
        page.screenshot(path=screenshots / "08-household-file.png", full_page=True)
    finally:
        page.close()


def test_passages_at_the_gates_appear_with_the_resident_masked(
    browser: Browser, gate: Gate, screenshots: Path
) -> None:
    with gate.hub.store.sessions() as session:
        resident = session.scalars(select(ResidentRow).order_by(ResidentRow.resident_id)).first()
        assert resident is not None
        holder_ref, name, id_masked = resident.holder_ref, resident.name, resident.id_masked
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        log_in(page, gate.url, "worker")
        page.click("[data-tab=passages]")
        expect(page.locator("#passages-empty")).to_be_visible()
        gate.resident_passes(holder_ref)  # published after the tab opened: it must show up
        opened = page.locator("#passage-list li[data-gate-action=open]")
        expect(opened).to_have_count(1, timeout=15_000)
        expect(opened).to_contain_text(f"{mask_name(name)} {id_masked}")
        expect(opened).not_to_contain_text(name)
        expect(opened).to_contain_text(f"{gate.site}-entry")
        expect(opened.locator(".badge")).to_have_text("放行")
        gate.stranger_passes(site="S0999")  # a site outside the worker's grid: not theirs
        gate.stranger_passes()
        stranger = page.locator("#passage-list li[data-gate-action=observe]")
        expect(stranger).to_contain_text("未识别", timeout=15_000)
        expect(page.locator("#passage-list li").first).to_have_attribute(
            "data-gate-action", "observe"
        )  # newest first
        expect(page.locator("#passage-count")).to_have_text("2")
        expect(page.locator("#passage-list")).not_to_contain_text("S0999")
        page.screenshot(path=screenshots / "09-passages.png", full_page=True)
    finally:
        page.close()
    token = httpx.post(
        f"{gate.url}api/auth/token", data={"username": "operator", "password": PASSWORD}
    ).json()["access_token"]
    every = httpx.get(f"{gate.url}api/passages", headers={"Authorization": f"Bearer {token}"})
    assert {p["site_id"] for p in every.json()} == {gate.site, "S0999"}  # operators see all
