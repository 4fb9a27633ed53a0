"""The text message a reporter receives, one template per risk level."""

from __future__ import annotations

from hub.reports.risk import RiskLevel

TEMPLATES: dict[RiskLevel, str] = {
    RiskLevel.HIGH: (
        "【gridgate】{name}，您的报备已收到。您近7天到访过高风险地区，请立即居家，"
        "不要外出，网格员将尽快与您联系。"
    ),
    RiskLevel.MEDIUM: (
        "【gridgate】{name}，您的报备已收到。您近7天到访过中风险地区，"
        "请于抵达后24小时内完成核酸检测，网格员将与您联系。"
    ),
    RiskLevel.LOW: "【gridgate】{name}，您的报备已收到，请做好个人防护。感谢配合。",
    RiskLevel.NONE: "【gridgate】{name}，您的报备已收到。感谢配合。",
}


def reporter_message(name: str, risk: RiskLevel) -> str:
    """The message for a reporter called ``name`` whose report has ``risk``."""
    return TEMPLATES[risk].format(name=name)
