"""Kiosk mode in a real browser: the kiosk's screen fills from real frames (door plate, pass,
face), the person cancels once, then agrees; a grid worker approves it on the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import insert, select

from edge.app import EdgeAgent
from edge.decoders.faces.fake import fake_encoding
from edge.simulate.gate import ScriptedGateSource
from edge.simulate.scenes import Scene
from hub.app import Hub
from hub.auth.roles import Role
from hub.ledger import sample
from hub.store.ledger_tables import GridRow, GridWorkerRow, ResidentRow, worker_grids
from tests.browser.test_dashboard import log_in
from tests.edge.helpers import wait_for
from tests.edge.test_kiosk import HOLDER, PERSON, kiosk_config, kiosk_site
from tests.hub.conftest import make_settings
from tests.support.broker import MosquittoBroker
from tests.support.hub_server import serving
from tests.support.logins import add_login

IDENTITY = b"identity-key-for-kiosk-browser-000000"


@dataclass
class KioskScene:
    """A running hub with a grid worker, and a kiosk agent seeing a person with plate and pass."""

    hub: Hub
    agent: EdgeAgent
    dashboard: str
    screen: str


@pytest.fixture
def kiosk(broker: MosquittoBroker, tmp_path: Path) -> Iterator[KioskScene]:
    hub = Hub(make_settings(broker, f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub"))
    generated = sample.generate(20, seed=3)
    sample.load(hub.store, generated, IDENTITY)
    address = generated.residents[0]
    worker = next(w["worker_id"] for w in generated.workers if w["grid_ids"] == address["grid_id"])
    with hub.store.transaction() as session:  # a second grid and its worker
        session.add(GridWorkerRow(worker_id="W-X", name="李强", phone="", channels={}))
        session.add(GridRow(grid_id="G-X", name="另一网格", leader_worker_id="W-X"))
        session.flush()
        session.execute(insert(worker_grids).values(worker_id="W-X", grid_id="G-X"))
    add_login(hub.store, "worker", Role.GRID_WORKER, worker_id=worker)
    add_login(hub.store, "other", Role.GRID_WORKER, worker_id="W-X")
    site = kiosk_site(tmp_path)
    person = Scene(
        marker=PERSON,
        codes=[f"GGDP1:{address['address_code']}", site.issuer.issue(holder_ref=HOLDER)],
    )
    camera = ScriptedGateSource([person], fps=20, frames_per_scene=6, empty_frames=30)
    with serving(hub) as port:
        agent = EdgeAgent(kiosk_config(site, host=broker.host, port=broker.port), source=camera)
        agent.start()
        try:
            assert agent.kiosk is not None and agent.kiosk.server is not None
            yield KioskScene(
                hub,
                agent,
                f"http://127.0.0.1:{port}/",
                f"http://127.0.0.1:{agent.kiosk.server.port}/",
            )
        finally:
            agent.stop()


def test_consent_on_the_kiosk_then_approval_on_the_dashboard(
    browser: Browser, kiosk: KioskScene, screenshots: Path
) -> None:
    screen = browser.new_page(viewport={"width": 1024, "height": 700}, locale="zh-CN")
    try:
        screen.goto(kiosk.screen)
        for step in ("plate", "pass", "face"):
            expect(screen.locator(f"#step-{step}")).to_have_class("done", timeout=20_000)
        expect(screen.locator("#pass-name")).to_have_text("张*")
        expect(screen.locator("#consent-text")).to_contain_text("本人同意")
        expect(screen.locator("#agree")).to_be_enabled()
        screen.screenshot(path=screenshots / "kiosk-01-scanned.png", full_page=True)
        screen.click("#cancel")
        expect(screen.locator("#message")).to_contain_text("已取消")
        screen.click("[data-lang=en]")
        expect(screen.locator("#consent-text")).to_contain_text("I agree that the community")
        expect(screen.locator("#agree")).to_be_enabled(timeout=20_000)  # scanned again
        screen.click("#agree")
        expect(screen.locator("#message")).to_contain_text("Submitted")
        screen.screenshot(path=screenshots / "kiosk-02-agreed.png", full_page=True)
    finally:
        screen.close()
    wait_for(
        lambda: kiosk.agent.kiosk is not None and kiosk.agent.kiosk.outbox.depth() == 0,
        15,
        "the hub's ack",
    )

    other = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        log_in(other, kiosk.dashboard, "other")
        other.click("[data-tab=registrations]")
        expect(other.locator("#registrations-empty")).to_be_visible()
    finally:
        other.close()

    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        log_in(page, kiosk.dashboard, "worker")
        page.click("[data-tab=registrations]")
        card = page.locator("li.registration")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("张*")
        expect(page.locator("[data-tab=registrations]")).to_have_text("自助登记")
        page.screenshot(path=screenshots / "kiosk-03-pending-on-dashboard.png", full_page=True)
        card.locator("input[data-field=note]").fill("已核对身份证")
        card.locator("[data-action=approve]").click()
        expect(page.locator("li.registration")).to_have_count(0)
        expect(page.locator("#registrations-empty")).to_be_visible()
        page.screenshot(path=screenshots / "kiosk-04-approved.png", full_page=True)
    finally:
        page.close()
    with kiosk.hub.store.sessions() as session:
        resident = session.scalars(
            select(ResidentRow).where(ResidentRow.holder_ref == HOLDER)
        ).one()
    assert resident.face_enrolled
    assert resident.resident_id in {kiosk.hub.faces.nearest(fake_encoding(PERSON)).ref}
