"""The example configuration shipped in deploy/ validates."""

from __future__ import annotations

from pathlib import Path

from edge.config import load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "config" / "edge.example.yaml"


def test_example_edge_config_validates() -> None:
    config = load_config(EXAMPLE)
    assert config.device_id == "gate-01"
    assert config.qr.backend == "zxing"
    assert config.faces.send_crops is False
    assert config.codes.policy.max_test_age_h == 48
