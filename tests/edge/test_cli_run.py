"""``gridgate-edge run`` as its own process: a folder camera, a real Mosquitto, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from edge.simulate.scenes import Scene
from models.events import Direction
from tests.edge.helpers import wait_for
from tests.edge.test_agent import DEVICE, PLATE, SITE, RecordingHub, retained_status, write_folder
from tests.support.broker import MosquittoBroker

AGENT = Path(sys.executable).with_name("gridgate-edge")
"""The installed console script, as an operator or systemd starts it."""


@pytest.fixture
def hub(broker: MosquittoBroker) -> Iterator[RecordingHub]:
    stub = RecordingHub(broker)
    stub.start()
    yield stub
    stub.stop()


def _write_config(tmp_path: Path, broker: MosquittoBroker, camera: Path) -> Path:
    config = {
        "device_id": DEVICE,
        "site_id": SITE,
        "data_dir": str(tmp_path / "data"),
        "capture": {"source": str(camera), "fps": 20, "loop": True},
        "faces": {"enabled": False},
        "passage": {"gate_id": "south-exit", "direction": "exit", "window_s": 1.0},
        "mqtt": {"host": broker.host, "port": broker.port, "heartbeat_s": 0.5},
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_run_publishes_status_and_events_and_stops_cleanly_on_sigterm(
    broker: MosquittoBroker, hub: RecordingHub, tmp_path: Path
) -> None:
    camera = write_folder(tmp_path / "camera", [Scene(codes=[PLATE])], stand=4, gap=30)
    config = _write_config(tmp_path, broker, camera)
    log = (tmp_path / "agent.log").open("w+", encoding="utf-8")
    agent = subprocess.Popen(
        [str(AGENT), "run", str(config)], stdout=log, stderr=subprocess.STDOUT, text=True
    )
    try:

        def online() -> bool:
            status = retained_status(broker, timeout=1.0)
            return status is not None and status.online

        wait_for(online, 60, "a retained online status")
        wait_for(lambda: len(hub.events) >= 1, 60, "a passage event at the hub")
        assert agent.poll() is None, "the agent exited on its own"

        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        log.seek(0)
        output = log.read()
        log.close()

    event = hub.events[0]
    assert (event.site_id, event.device_id, event.gate_id) == (SITE, DEVICE, "south-exit")
    assert event.direction is Direction.EXIT  # the gate's configured direction
    assert [p.address_code for p in event.door_plates()] == ["310101001001"]
    assert event.faces() == []  # faces are off at this site
    final = retained_status(broker)
    assert final is not None and not final.online, output
    assert "edge agent stopped" in output
    assert "Traceback" not in output


def test_run_with_a_broken_config_exits_2_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text("device_id: gate-01\nsite_id: site-a\ncapture: {source: 0, fps: -1}\n")
    result = subprocess.run(
        [str(AGENT), "run", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "capture.fps" in result.stderr
