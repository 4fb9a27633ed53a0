"""Per-site rules from YAML: defaults, overrides, and clear errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.rules.config import RulesFileError, load_rules
from models.alerts import AlertRule, Severity


def test_site_overrides_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "default:\n"
        "  test_overdue_h: 24\n"
        "sites:\n"
        "  checkpoint-g15:\n"
        "    enabled: [red_code, yellow_code, invalid_pass, tailgating]\n"
        "    tailgating_requires_passes: true\n"
        "    severity: {yellow_code: critical}\n"
    )
    rules = load_rules(path)
    assert rules.for_site("compound-1").test_overdue_h == 24
    checkpoint = rules.for_site("checkpoint-g15")
    assert AlertRule.UNREGISTERED_PERSON not in checkpoint.enabled
    assert checkpoint.tailgating_requires_passes
    assert checkpoint.severity_of(AlertRule.YELLOW_CODE) is Severity.CRITICAL
    assert checkpoint.severity_of(AlertRule.RED_CODE) is Severity.CRITICAL


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("default:\n  test_overdue: 24\n", "default.test_overdue"),
        ("sites:\n  a:\n    enabled: [teleport]\n", "sites.a.enabled"),
        ("default: [1, 2\n", "rules.yaml"),
    ],
)
def test_bad_rules_files_name_the_field(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(RulesFileError, match=names.replace(".", r"\.")):
        load_rules(path)
