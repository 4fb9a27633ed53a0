"""`gridgate-demo` end to end: broker, hub and simulated gate produce passages and alerts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from hub.auth.users import authenticate
from hub.broker import free_port
from hub.demo import run_demo
from hub.store.alert_tables import AlertRow
from hub.store.db import Store
from hub.store.tables import DeviceRow, EventRow
from models import PassageEvent
from models.alerts import AlertRule
from models.events import GateAction


def test_demo_shows_registered_passages_and_alerts(tmp_path: Path, photos: dict[str, Path]) -> None:
    run_demo(tmp_path / "demo", api_port=free_port(), residents=200, seconds=20)
    store = Store.open(f"sqlite:///{tmp_path / 'demo' / 'hub' / 'hub.db'}", migrate=False)
    try:
        with store.transaction() as session:
            events = [
                PassageEvent.model_validate(r.payload) for r in session.scalars(select(EventRow))
            ]
            rules = {AlertRule(r.rule) for r in session.scalars(select(AlertRow))}
            devices = session.scalars(select(DeviceRow)).all()
            logins = json.loads((tmp_path / "demo" / "logins.json").read_text("utf-8"))
            assert set(logins) == {"operator", "worker"}
            for username, password in logins.items():
                assert authenticate(session, username, password) is not None
    finally:
        store.close()
    actions = {e.decision.action for e in events}
    assert GateAction.OPEN in actions  # the registered resident with a green pass
    assert GateAction.DENY in actions  # the red pass
    assert {AlertRule.UNREGISTERED_PERSON, AlertRule.RED_CODE} <= rules
    assert [d.device_id for d in devices] == ["gate-01"]
    assert devices[0].online is False  # stopped cleanly: the offline status was published


def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path, photos: dict[str, Path]) -> None:
    command = shutil.which("gridgate-demo", path=str(Path(sys.executable).parent))
    assert command is not None, "gridgate-demo is not installed in this environment"
    options = ["--data-dir", str(tmp_path / "demo"), "--port", str(free_port())]
    demo = subprocess.Popen(
        [command, *options, "--residents", "50", "--seconds", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert demo.stdout is not None
    seen: list[str] = []
    try:
        for line in demo.stdout:  # the banner comes once the hub, its API and the gate run
            seen.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        assert any("gridgate demo running" in line for line in seen), "".join(seen)
        demo.send_signal(signal.SIGINT)
        try:
            rest, _ = demo.communicate(timeout=90)  # the demo's own stop limit is 45 s
        except subprocess.TimeoutExpired as exc:
            demo.send_signal(signal.SIGUSR1)  # the demo prints every thread's stack
            time.sleep(2)
            demo.kill()
            late, _ = demo.communicate()
            raise AssertionError(f"no exit 90 s after SIGINT:\n{''.join(seen)}{late}") from exc
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, "".join(seen) + rest
    assert "stopped cleanly" in rest and "Traceback" not in rest
