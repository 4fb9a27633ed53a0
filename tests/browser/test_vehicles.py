"""The Vehicles view in a real browser: a held car arrives over MQTT, its red occupant shown.

A real hub (SQLite, its own Mosquitto) with a sample ledger; the checkpoint publishes one
vehicle event as an edge would (gate → MQTT → ingest → vehicles + alerts → API → page).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hub.app import Hub
from hub.auth.roles import Role
from hub.ledger import sample
from models.events import CodeColour
from tests.browser.test_dashboard import IDENTITY, log_in
from tests.hub.conftest import make_settings
from tests.hub.test_vehicles import occupant, vehicle_event
from tests.support.broker import MosquittoBroker
from tests.support.hub_publisher import HubPublisher
from tests.support.hub_server import serving
from tests.support.logins import add_login


class Checkpoint:
    """A running hub with a sample ledger and an operator, and a checkpoint to publish from."""

    def __init__(self, port: int, publisher: HubPublisher, site: str, address: str) -> None:
        self.url = f"http://127.0.0.1:{port}/"
        self.publisher, self.site, self.address = publisher, site, address

    def held_car(self) -> None:
        """A stranger with a red code bound for a ledger address, and a green passenger."""
        event = vehicle_event(
            occupant(1, CodeColour.RED, "h1:red-stranger", code=self.address),
            occupant(2, CodeColour.GREEN, "h1:green-stranger"),
        ).model_copy(update={"site_id": self.site})
        self.publisher.publish(event)
        assert self.publisher.wait_settled(15)


@pytest.fixture
def checkpoint(broker: MosquittoBroker, tmp_path: Path) -> Iterator[Checkpoint]:
    hub = Hub(make_settings(broker, f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub"))
    generated = sample.generate(20, seed=3)
    sample.load(hub.store, generated, IDENTITY)
    add_login(hub.store, "operator", Role.OPERATOR)
    publisher = HubPublisher(broker.host, broker.port)
    with serving(hub) as port:
        publisher.start()
        site = generated.sites[0]["site_id"]
        publisher.announce(site, "cp-01")
        try:
            yield Checkpoint(port, publisher, site, generated.residents[0]["address_code"])
        finally:
            publisher.stop()


def test_operator_sees_the_held_vehicle_and_its_red_occupant(
    browser: Browser, checkpoint: Checkpoint, screenshots: Path
) -> None:
    checkpoint.held_car()
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        log_in(page, checkpoint.url, "operator")
        page.click("[data-tab=vehicles]")
        card = page.locator("li.vehicle[data-plate=粤BD12345]")
        expect(card).to_have_attribute("data-held", "true")
        expect(card.locator(".verdict")).to_have_text("留检")
        expect(card).to_contain_text("乘员 2")
        card.locator("[data-action=occupants]").click()
        red = card.locator("li.occupant[data-colour=red]")
        expect(red).to_contain_text("红码")
        expect(red).to_contain_text("未登记")
        expect(red).to_contain_text("G0001")  # the destination's grid
        expect(card.locator("li.occupant[data-colour=green]")).to_have_count(1)
        page.fill("#vehicle-filter input[name=plate]", "京A")
        page.click("#vehicle-filter button[type=submit]")
        expect(page.locator("#vehicles-empty")).to_be_visible()
        page.fill("#vehicle-filter input[name=plate]", "")
        page.check("#vehicle-filter input[name=held]")
        page.click("#vehicle-filter button[type=submit]")
        expect(page.locator("li.vehicle")).to_have_count(1)
        page.locator("li.vehicle [data-action=occupants]").click()
        page.click("#lang")
        expect(page.locator("li.vehicle .verdict")).to_have_text("HELD")
        page.locator("li.vehicle [data-action=occupants]").click()
        expect(page.locator("li.occupant[data-colour=red]")).to_contain_text("red")
        page.screenshot(path=screenshots / "vehicles.png", full_page=True)
    finally:
        page.close()
