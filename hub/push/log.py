"""The SMS / e-mail adapter's log driver: writes the message it would send."""

from __future__ import annotations

import logging

from models.alerts import Alert

log = logging.getLogger("hub.push.sms")


class LogMessageChannel:
    """Stands in for an SMS or e-mail gateway; keeps what it sent for inspection."""

    def __init__(self, name: str = "sms") -> None:
        self.name = name
        self.sent: list[str] = []

    def send(self, alert: Alert) -> str:
        """Log the text message for the alert's grid."""
        text = f"[gridgate] {alert.severity} {alert.rule} @ {alert.site_id}: {alert.summary}"
        self.sent.append(text)
        log.info("%s to grid %s: %s", self.name, alert.grid_id, text)
        return f"grid:{alert.grid_id}"

    def close(self) -> None:
        """Nothing to release."""
