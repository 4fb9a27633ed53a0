"""reload_config: the pipeline's sections apply at once, long-lived ones are named for a
restart, a broken file changes nothing; the status reports the config version in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

from edge.app import EdgeAgent
from edge.config import load_config
from models.base import new_id, utc_now
from models.commands import CommandName, DeviceCommand


def _write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(document), encoding="utf-8")


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "blank.png"), np.zeros((60, 80, 3), np.uint8))
    return {
        "device_id": "gate-01",
        "site_id": "site-a",
        "data_dir": str(tmp_path / "data"),
        "capture": {"source": str(frames)},
        "faces": {"enabled": False},
        "mqtt": {"port": 1883},
    }


def _reload(agent: EdgeAgent) -> tuple[bool, str]:
    result = agent.handle_command(
        DeviceCommand(
            command_id=new_id(),
            name=CommandName.RELOAD_CONFIG,
            issued_at=utc_now(),
            issued_by="ops",
        )
    )
    return result.ok, result.detail


def test_reload_applies_policies_and_names_what_needs_a_restart(
    document: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "edge.yaml"
    _write(path, document)
    agent = EdgeAgent(load_config(path), config_path=path)
    before = agent.status().versions.config
    old_pipeline = agent.pipeline
    _write(path, {**document, "policy": {"open_on_green_code": False}, "mqtt": {"port": 2883}})
    ok, detail = _reload(agent)
    assert ok, detail
    assert "restart to apply: mqtt" in detail
    assert agent.config.policy.open_on_green_code is False
    assert agent.config.mqtt.port == 1883  # the link keeps its broker until a restart
    assert agent.pipeline is not old_pipeline
    assert agent.status().versions.config not in (None, before)

    path.write_text("policy: {open_on_green_code: maybe}\n", encoding="utf-8")
    ok, detail = _reload(agent)
    assert not ok and "open_on_green_code" in detail
    assert agent.config.policy.open_on_green_code is False  # unchanged


def test_reload_without_a_file_says_so(document: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    _write(path, document)
    ok, detail = _reload(EdgeAgent(load_config(path)))
    assert not ok and "without a config file" in detail
