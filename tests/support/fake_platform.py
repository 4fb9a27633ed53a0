"""A fake health-code platform: a real local HTTP server with a verify-code API.

It answers ``POST /api/v1/verify`` with ``{"qrCode": …}`` and the ``X-App-Key`` header in the
shape many provincial platforms use (``{"code": "0", "msg": …, "data": {…}}``), knows a few
codes, counts requests, and can be told to misbehave: ``slow`` (answers after ``slow_s``),
``error`` (HTTP 500), ``garbage`` (a truncated JSON body), ``deep`` (JSON nested 5,000 deep),
``huge`` (a good answer padded to 1 MiB), ``drip`` (a good answer, 8 bytes every ``drip_s``:
each read is quick, the whole answer is not), or be stopped (connection refused).

Example::

    with FakePlatform() as platform:
        verifier = OnlineVerifier(platform.verifier_config())
        verifier.verify(GREEN, utc_now())
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from edge.verify.online import OnlineVerifierConfig, ResponseMapping
from models.events import ReasonCode

APP_KEY = "fake-app-key-0123456789"
CODE_PREFIX = "https://hc.example.gov.cn/q/"
GREEN = CODE_PREFIX + "G7K2M9Q4X1"
YELLOW = CODE_PREFIX + "Y3N8P5R2T6"
RED = CODE_PREFIX + "R9V4W7Z2B5"
STALE_TEST = CODE_PREFIX + "S1D6F3H8J4"
"""Green, but its last negative test is 100 hours old."""
ODD_COLOUR = CODE_PREFIX + "O2L5C8E1U7"
"""The platform answers with a colour value the mapping does not know."""
UNKNOWN = CODE_PREFIX + "U0U0U0U0U0"
PATTERN = r"https://hc\.example\.gov\.cn/q/[A-Z0-9]{10}"
"""The payload pattern that routes these codes to the online verifier."""
CST = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Holder:
    """What the platform knows about one code."""

    colour: str
    name: str
    tested_hours_ago: float | None
    doses: int
    time_style: str = "cst"
    """How the test time is written: ``cst`` (naive, UTC+8), ``epoch_ms`` or ``iso``."""


HOLDERS = {
    GREEN: Holder("0", "张三丰", 20, 3),
    YELLOW: Holder("1", "李四", 30, 2, "epoch_ms"),
    RED: Holder("2", "王五", None, 0),
    STALE_TEST: Holder("0", "赵六", 100, 3, "iso"),
    ODD_COLOUR: Holder("9", "钱七", 10, 1),
}


class Mode(StrEnum):
    """How the platform behaves."""

    NORMAL = "normal"
    SLOW = "slow"
    ERROR = "error"
    GARBAGE = "garbage"
    DEEP = "deep"
    HUGE = "huge"
    DRIP = "drip"


DRIP_BYTES = 8


class FakePlatform:
    """The server; :meth:`start` on a free port, :meth:`stop` refuses connections after."""

    def __init__(self, mode: Mode = Mode.NORMAL, slow_s: float = 5.0, drip_s: float = 0.2) -> None:
        self.mode = mode
        self.slow_s = slow_s
        self.drip_s = drip_s
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self) -> FakePlatform:
        """Listen on 127.0.0.1 on a free port."""
        server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._server = server
        self._released.clear()
        threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-platform", daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/verify"
        return self

    def stop(self) -> None:
        """Close the listening socket (later requests are refused) and release slow answers."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def verifier_config(self, **changes: Any) -> OnlineVerifierConfig:
        """A verifier config for this platform's API and answer shape."""
        settings: dict[str, Any] = {
            "endpoint": self.url,
            "issuer": "fake-platform",
            "code_field": "qrCode",
            "extra_fields": {"appId": "gate-test"},
            "app_key": APP_KEY,
            "response": ResponseMapping(
                error_reasons={"1001": ReasonCode.MALFORMED, "1002": ReasonCode.UNKNOWN_ISSUER},
                colour="data.color",
                holder_name="data.name",
                test_time="data.nucleicTime",
                test_result="data.nucleicResult",
                doses="data.vaccineDoses",
            ),
        }
        return OnlineVerifierConfig.model_validate({**settings, **changes})

    def answer(self, body: object, app_key: str | None) -> tuple[int, bytes]:
        """HTTP status and body for one request."""
        with self._lock:
            self.requests += 1
            if isinstance(body, dict):
                self.bodies.append(body)
        if self.mode is Mode.SLOW and self._released.wait(self.slow_s):
            return 0, b""  # stopped while waiting: no answer at all
        if self.mode is Mode.ERROR:
            return 500, b"internal error"
        if self.mode is Mode.GARBAGE:
            return 200, b'{"code": "0", "data": {"color": '
        if app_key != APP_KEY:
            return 401, _json({"code": "4010", "msg": "bad app key"})
        code = body.get("qrCode") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code.startswith(CODE_PREFIX):
            return 200, _json({"code": "1001", "msg": "invalid code"})
        holder = HOLDERS.get(code)
        if holder is None:
            return 200, _json({"code": "1002", "msg": "unknown code"})
        if self.mode is Mode.DEEP:
            return 200, b"[" * 5000 + b"]" * 5000
        padding = "x" * (1 << 20) if self.mode is Mode.HUGE else ""
        answer = {"code": "0", "msg": "ok", "data": _data(holder)}
        return 200, _json({**answer, "padding": padding} if padding else answer)

    def dripping_stopped(self) -> bool:
        """Wait one drip interval; True when the server was stopped meanwhile."""
        return self._released.wait(self.drip_s)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timed out) is expected here, not an error."""


def _data(holder: Holder) -> dict[str, Any]:
    data: dict[str, Any] = {
        "color": holder.colour,
        "name": holder.name,
        "vaccineDoses": holder.doses,
    }
    if holder.tested_hours_ago is not None:
        tested = datetime.now(UTC) - timedelta(hours=holder.tested_hours_ago)
        if holder.time_style == "epoch_ms":
            data["nucleicTime"] = int(tested.timestamp() * 1000)
        elif holder.time_style == "iso":
            data["nucleicTime"] = tested.isoformat()
        else:
            data["nucleicTime"] = tested.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
        data["nucleicResult"] = "阴性"
    return data


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            status, payload = platform.answer(body, self.headers.get("X-App-Key"))
            if status == 0:
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if platform.mode is not Mode.DRIP:
                self.wfile.write(payload)
                return
            for start in range(0, len(payload), DRIP_BYTES):
                if platform.dripping_stopped():
                    return
                try:
                    self.wfile.write(payload[start : start + DRIP_BYTES])
                    self.wfile.flush()
                except OSError:  # the verifier gave up and closed the connection
                    return

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
