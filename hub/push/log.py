"""The SMS / e-mail adapter's log driver: writes the message it would send."""

from __future__ import annotations

import logging

log = logging.getLogger("hub.push.sms")


class LogSender:
    """Stands in for an SMS or e-mail gateway; keeps what it sent for inspection."""

    def __init__(self, name: str = "sms") -> None:
        self.name = name
        self.sent: list[tuple[str, str]] = []

    def deliver(self, target: str, text: str) -> None:
        """Log the message instead of sending it."""
        self.sent.append((target, text))
        log.info("%s to %s: %s", self.name, target, text)
