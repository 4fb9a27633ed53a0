"""Every label the dashboard shows exists in Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

from models.alerts import AlertRule
from models.status import DeviceWarning

STATIC = Path(__file__).resolve().parents[1] / "hub" / "web" / "static"
KEY = re.compile(r'(?:"([\w.]+)"|\b(\w+)):\s*"')


def _labels(language: str) -> set[str]:
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    block = re.search(rf"\n  {language}: \{{(.*?)\n  \}},", text, re.S)
    assert block is not None, f"no {language} block in i18n.js"
    return {quoted or bare for quoted, bare in KEY.findall(block.group(1))}


def test_chinese_and_english_have_the_same_labels() -> None:
    zh, en = _labels("zh"), _labels("en")
    assert len(zh) > 100
    assert zh == en, f"only zh: {sorted(zh - en)}; only en: {sorted(en - zh)}"


def test_every_fixed_label_used_by_the_page_exists() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-placeholder)?="([\w.]+)"', html))
    used |= set(re.findall(r'\bt\("([\w.]+)"\)', script))
    missing = used - _labels("en")
    assert not missing, f"labels used but not defined: {sorted(missing)}"


def test_every_device_warning_has_a_label() -> None:
    """Warnings come from the edges' status (models.status), shown as ``warning.<value>``."""
    missing = {f"warning.{w.value}" for w in DeviceWarning} - _labels("en")
    assert not missing, f"device warnings without a label: {sorted(missing)}"


def test_every_alert_rule_has_a_label() -> None:
    """Alert cards and filters show ``rule.<value>`` for each rule of models.alerts."""
    missing = {f"rule.{rule.value}" for rule in AlertRule} - _labels("en")
    assert not missing, f"alert rules without a label: {sorted(missing)}"
