"""Report alerts pushed live (grid topic, SSE, the worker's SMS) and reporters' messages
through the configured SMS gateway: a real hub, Mosquitto and a local HTTP gateway."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from hub.app import Hub
from hub.config import HubSettings
from hub.ledger.idnumber import HolderHasher
from hub.push.base import ChannelError
from hub.push.http_sms import HttpSmsSender, sms_sender
from hub.push.log import LogSender
from hub.push.webhook import signature
from hub.reports.desk import ReportDesk
from hub.reports.form import ReportInput, ValidReport, check_report
from hub.reports.tokens import verify_report_token
from hub.store import Store
from hub.store.alert_tables import DeliveryRow
from hub.store.ledger_tables import GridWorkerRow
from hub.store.report_tables import ReportRow
from models import Alert
from models.alerts import AlertRule
from models.base import utc_now
from tests.edge.helpers import wait_for
from tests.hub.conftest import TEST_SECRET, make_settings
from tests.hub.test_end_to_end import GridWorkerApp
from tests.hub.test_reports import IDENTITY, form_data, seed_report_ledger, token_for
from tests.support.broker import MosquittoBroker
from tests.support.hub_server import serving
from tests.support.logins import operator_headers

BODY = '{"mobile": "$to", "content": "$text", "sign": "gridgate", "tags": ["$to"]}'
AUTH = "Bearer gateway-token-0123"
SIGNING = "sms-signing-secret-0123456789abcdef"
WORKER_PHONE = "13900000001"


class SmsGateway:
    """A local SMS gateway: records every request; refuses (503) each target's first
    ``fail_first`` requests, or every request while ``down``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.tries: Counter[str] = Counter()
        self.fail_first, self.down = fail_first, False
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                target = json.loads(body).get("mobile", "")
                gateway.tries[target] += 1
                refuse = gateway.down or gateway.tries[target] <= gateway.fail_first
                if not refuse:
                    gateway.requests.append((dict(self.headers), body))
                self.send_response(503 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages(self) -> dict[str, str]:
        """Text by phone number of the accepted requests."""
        return {m["mobile"]: m["content"] for m in (json.loads(b) for _, b in self.requests)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    running = SmsGateway(fail_first=1)
    yield running
    running.close()


def gateway_settings(url: str) -> dict[str, Any]:
    return {
        "sms_driver": "http",
        "sms_url": url,
        "sms_body": BODY,
        "sms_auth": AUTH,
        "sms_secret": SIGNING,
    }


@pytest.fixture
def running_hub(
    broker: MosquittoBroker, gateway: SmsGateway, tmp_path: Path
) -> Iterator[tuple[Hub, int]]:
    settings = make_settings(
        broker,
        f"sqlite:///{tmp_path / 'hub.db'}",
        tmp_path / "hub",
        identity_key=IDENTITY,
        **gateway_settings(gateway.url),
    )
    hub = Hub(settings)
    assert hub.reports is not None
    hub.push.backoff_s = hub.reports.messenger.backoff_s = 0.05
    seed_report_ledger(hub.store)
    with hub.store.transaction() as session:
        session.execute(
            update(GridWorkerRow)
            .where(GridWorkerRow.worker_id == "W-A")
            .values(channels={"sms": WORKER_PHONE})
        )
    with serving(hub) as port:
        yield hub, port


def test_a_high_risk_report_reaches_the_grid_topic_the_stream_and_phones_live(
    running_hub: tuple[Hub, int], broker: MosquittoBroker, gateway: SmsGateway
) -> None:
    hub, port = running_hub
    assert hub.reports is not None
    phone = GridWorkerApp(broker, "G-A")
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    api.headers.update(operator_headers(hub.store, api))
    streamed: list[Alert] = []
    stream_open = threading.Event()

    def listen() -> None:
        with api.stream("GET", "/api/alerts/stream") as r:
            stream_open.set()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    streamed.append(Alert.model_validate(json.loads(line[5:])))
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        assert phone.ready.wait(10) and stream_open.wait(10)
        wait_for(lambda: hub.alerts_stream.subscribers == 1, 10, "the SSE subscriber")
        page = httpx.post(f"http://127.0.0.1:{port}/r/{token_for('G-A')}", data=form_data())
        assert page.status_code == 200 and 'data-risk="high"' in page.text
        wait_for(lambda: len(phone.alerts) == 1, 15, "the alert on the grid's topic")
        listener.join(15)
        wait_for(lambda: len(gateway.requests) == 2, 15, "the reporter's and worker's SMS")
        assert hub.reports.messenger.wait_idle(10) and hub.push.wait_idle(10)
    finally:
        phone.close()
    (alert,) = phone.alerts
    assert (alert.rule, alert.grid_id, alert.site_id) == (
        AlertRule.REPORT_HIGH_RISK,
        "G-A",
        "report-code",
    )
    assert [a.alert_id for a in streamed] == [alert.alert_id]
    texts = gateway.messages()
    assert "高风险" in texts["13800138000"] and "李娜" in texts["13800138000"]
    assert "report_high_risk" in texts[WORKER_PHONE]
    for headers, body in gateway.requests:
        assert headers["Authorization"] == AUTH
        stamp = headers["X-Gridgate-Timestamp"]
        assert headers["X-Gridgate-Signature"] == signature(SIGNING.encode(), stamp, body)
        sent = json.loads(body)
        assert sent["sign"] == "gridgate" and sent["tags"] == [sent["mobile"]]
    with hub.store.sessions() as session:
        report = session.scalars(select(ReportRow)).one()
        deliveries = {d.channel: d for d in session.scalars(select(DeliveryRow))}
    assert report.alert_id == alert.alert_id
    assert (report.message_status, report.message_attempts) == ("sent", 2)
    assert (deliveries["sms"].status, deliveries["sms"].target) == ("sent", WORKER_PHONE)
    assert deliveries["mqtt"].status == "sent" and deliveries["sse"].status == "sent"


def test_a_gateway_that_is_down_keeps_the_report_and_stores_the_failure(
    store: Store, gateway: SmsGateway
) -> None:
    seed_report_ledger(store)
    gateway.down = True
    sender = HttpSmsSender(gateway.url, BODY, timeout_s=2)
    settings = HubSettings(secret_key=TEST_SECRET, identity_key=IDENTITY)
    desk = ReportDesk(
        store, sender, settings.zone, HolderHasher(IDENTITY.encode()), message_backoff_s=0.01
    )
    raw = ReportInput(**{**form_data(), "regions": ("310115",), "consent": True})
    report = check_report(raw, today=desk.today(utc_now()), hasher=desk.hasher, regions={"310115"})
    assert isinstance(report, ValidReport)
    scope = verify_report_token(token_for("G-A"), TEST_SECRET, utc_now())
    try:
        outcome = desk.submit(report, scope, utc_now())
        assert desk.messenger.wait_idle(10)
    finally:
        desk.close()
        sender.close()
    with store.sessions() as session:
        row = session.get(ReportRow, outcome.report_id)
    assert row is not None and row.risk_level == "high"
    assert (row.message_status, row.message_attempts) == ("failed", 4)
    assert "HTTP 503" in row.message_error
    assert gateway.tries["13800138000"] == 4 and gateway.requests == []


def test_the_sms_settings_refuse_a_gateway_without_url_or_a_bad_body() -> None:
    base: dict[str, Any] = {"secret_key": TEST_SECRET}
    assert isinstance(sms_sender(HubSettings(**base)), LogSender)
    for bad in (
        {"sms_driver": "http"},
        {"sms_driver": "carrier-pigeon"},
        {"sms_driver": "http", "sms_url": "ftp://gateway.example/"},
        {"sms_body": "not json"},
        {"sms_body": '["$to", "$text"]'},
        {"sms_body": '{"to": "$to"}'},
        {"sms_timeout_s": 0},
        {"sms_gateway": "http://x"},
        {"report_retention_days": 0},
    ):
        with pytest.raises(ValidationError):
            HubSettings(**base, **bad)
    settings = HubSettings(**base, **gateway_settings("http://127.0.0.1:9/sms"))
    sender = sms_sender(settings)
    assert isinstance(sender, HttpSmsSender)
    sender.close()


def test_a_text_cannot_break_the_gateway_body(gateway: SmsGateway) -> None:
    sender = HttpSmsSender(gateway.url, BODY)
    tricky = 'a "quoted" $to ${text} \\ 文本'
    try:
        with pytest.raises(ChannelError, match="HTTP 503"):
            sender.deliver("13700000000", tricky)  # each target's first try is refused
        sender.deliver("13700000000", tricky)
    finally:
        sender.close()
    assert gateway.messages() == {"13700000000": tricky}
