"""Hub settings: environment prefix, defaults, and refusal of weak secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.config import DEFAULT_SECRET_KEY, HubSettings, StoreSettings
from tests.hub.conftest import TEST_SECRET


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRIDGATE_HUB_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("GRIDGATE_HUB_MQTT_PORT", "18830")
    monkeypatch.setenv("GRIDGATE_HUB_DATA_DIR", str(tmp_path))
    settings = HubSettings()
    assert settings.mqtt_port == 18830
    assert settings.database_url == f"sqlite:///{tmp_path / 'hub.db'}"
    assert settings.secret_key.get_secret_value() == TEST_SECRET


def test_explicit_database_url_wins(tmp_path: Path) -> None:
    url = "postgresql+psycopg://hub@db.example/hub"
    assert StoreSettings(data_dir=tmp_path, database_url=url).database_url == url


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-secret"])
def test_weak_secret_refused_outside_dev_mode(secret: str) -> None:
    with pytest.raises(ValidationError, match="GRIDGATE_HUB_SECRET_KEY"):
        HubSettings(secret_key=secret)


def test_default_secret_accepted_in_dev_mode_with_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="hub.config"):
        settings = HubSettings(dev_mode=True)
    assert settings.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
    assert "dev_mode" in caplog.text


def test_unknown_fields_forbidden() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        HubSettings(secret_key=TEST_SECRET, mqtt_hostname="x")  # type: ignore[call-arg]


def test_every_field_is_documented() -> None:
    for name, field in HubSettings.model_fields.items():
        assert field.title and field.description, name


def test_share_group_must_be_a_topic_level() -> None:
    with pytest.raises(ValidationError):
        HubSettings(secret_key=TEST_SECRET, share_group="a/b")
