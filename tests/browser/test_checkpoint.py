"""Checkpoint vehicle mode on a phone: a bad plate is refused as it is typed, a new-energy plate
opens the vehicle, three codes are pasted or typed by a keyboard-wedge scanner (one red), the
vehicle is HELD, and it is closed with the uplink down; the hub stub gets it once back up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Browser, expect

from edge.app import EdgeAgent
from edge.simulate.gate import ScriptedGateSource
from edge.simulate.scenes import Scene
from models.events import CodeColour
from tests.edge.helpers import wait_for
from tests.edge.test_checkpoint import ID_A, ID_B, ID_C, checkpoint_config, pass_of
from tests.support.broker import MosquittoBroker
from tests.support.hub_stub import HubStub
from tests.support.passes import Issuer


@dataclass
class CheckpointScene:
    """A running checkpoint agent, its page and a hub stub that acks."""

    agent: EdgeAgent
    issuer: Issuer
    stub: HubStub
    page: str


@pytest.fixture
def checkpoint(broker: MosquittoBroker, tmp_path: Path) -> Iterator[CheckpointScene]:
    stub = HubStub(broker.host, broker.port).start()
    config, issuer = checkpoint_config(tmp_path, broker)
    camera = ScriptedGateSource([Scene()], fps=10, frames_per_scene=1, empty_frames=10)
    agent = EdgeAgent(config, source=camera)
    agent.start()
    try:
        assert agent.checkpoint is not None and agent.checkpoint.server is not None
        assert agent.link.wait_ready(10)
        yield CheckpointScene(
            agent, issuer, stub, f"http://127.0.0.1:{agent.checkpoint.server.port}/"
        )
    finally:
        agent.stop()
        stub.stop()


def test_a_car_checked_on_a_phone_is_held_and_reaches_the_hub_after_an_outage(
    browser: Browser, checkpoint: CheckpointScene, broker: MosquittoBroker, screenshots: Path
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # script errors
    try:
        page.goto(checkpoint.page)
        expect(page.locator("#uplink")).to_have_class("up")
        page.locator("#plate").press_sequentially("粤B1234")
        expect(page.locator("#plate-msg")).to_contain_text("车牌无效")
        expect(page.locator("#plate-msg")).to_contain_text("7")
        expect(page.locator("#open")).to_be_disabled()
        page.screenshot(path=screenshots / "checkpoint-01-bad-plate.png", full_page=True)

        page.fill("#plate", "粤b·D12345")
        expect(page.locator("#plate-msg")).to_contain_text("粤BD12345 · 新能源")
        page.select_option("#lane", "1")
        page.select_option("#direction", "entry")
        page.click("#open")
        expect(page.locator("#vehicle-plate")).to_have_text("粤BD12345")
        expect(page.locator("#code")).to_be_focused()

        issuer = checkpoint.issuer
        page.fill("#code", pass_of(issuer, ID_A))  # pasted
        page.fill("#id-number", ID_A)
        page.fill("#destination", "新塘里96号")
        page.click("#add")
        expect(page.locator("li.occupant")).to_have_count(1)
        page.fill("#destination", "东村3号")  # then a keyboard-wedge scanner types, with Enter
        page.focus("#code")
        page.keyboard.insert_text(pass_of(issuer, ID_B, CodeColour.RED))
        page.keyboard.press("Enter")
        expect(page.locator("li.occupant")).to_have_count(2)
        page.fill("#code", pass_of(issuer, ID_C))
        page.fill("#destination", "新塘里96号")
        page.press("#code", "Enter")
        expect(page.locator("li.occupant")).to_have_count(3)
        page.fill("#code", "hello")
        page.click("#add")
        expect(page.locator("#occupant-msg")).to_contain_text("不是健康码")

        expect(page.locator("li.occupant.passed")).to_have_count(2)
        held = page.locator("li.occupant.failed")
        expect(held).to_have_count(1)
        expect(held.locator(".badge.fail")).to_have_text("未通过")
        expect(held).to_contain_text("红码")
        expect(page.locator("#vehicle-verdict")).to_have_text("暂扣")
        expect(page.locator("#vehicle-verdict")).to_have_class("verdict held")
        expect(page.locator("#vehicle-reasons")).to_have_text("红码")
        expect(page.locator("li.occupant").first).to_contain_text("110***********4514")
        page.screenshot(path=screenshots / "checkpoint-02-held.png", full_page=True)
        page.click("[data-lang=en]")
        expect(page.locator("#vehicle-verdict")).to_have_text("HELD")
        expect(page.locator("#vehicle-reasons")).to_have_text("red code")
        expect(held).to_contain_text("Seat 2 · gridgate · red")
        page.screenshot(path=screenshots / "checkpoint-02-held-en.png", full_page=True)

        broker.stop()  # the uplink goes down: the page keeps working
        expect(page.locator("#uplink")).to_have_class("down", timeout=15_000)
        page.click("#close")
        expect(page.locator("#message")).to_contain_text("Closed and stored: 粤BD12345 · HELD")
        expect(page.locator("#queued")).to_have_text("1")
        expect(page.locator("#open-form")).to_be_visible()
        expect(page.locator("#closed li").first).to_contain_text("粤BD12345 · 3 · HELD")
        page.screenshot(path=screenshots / "checkpoint-03-closed-offline.png", full_page=True)

        broker.start()
        expect(page.locator("#uplink")).to_have_class("up", timeout=20_000)
        expect(page.locator("#queued")).to_have_text("0", timeout=20_000)
        page.screenshot(path=screenshots / "checkpoint-04-delivered.png", full_page=True)
    finally:
        page.close()
    assert errors == []
    assert checkpoint.agent.checkpoint is not None
    closed = checkpoint.agent.checkpoint.desk.view()["closed"]
    wait_for(lambda: len(checkpoint.stub.first) == 1, 10, "the vehicle at the hub stub")
    assert checkpoint.stub.first == [UUID(closed[0]["event_id"])]
    assert checkpoint.agent.outbox.depth() == 0
