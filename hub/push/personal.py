"""A channel that messages people (SMS, e-mail …) through a sender, one message per recipient."""

from __future__ import annotations

from typing import Protocol

from hub.push.recipients import RecipientDirectory
from models.alerts import Alert


class MessageSender(Protocol):
    """An SMS or e-mail gateway: sends one text to one address."""

    def deliver(self, target: str, text: str) -> None:
        """Send ``text`` to ``target``; raise ``hub.push.base.ChannelError`` to have it retried."""
        ...


def message_text(alert: Alert) -> str:
    """The short text a grid worker receives."""
    prefix = "[gridgate 升级] " if alert.escalated else "[gridgate] "
    return f"{prefix}{alert.severity} {alert.rule} @ {alert.site_id}: {alert.summary}"


class PersonalChannel:
    """Implements :class:`hub.push.base.AlertChannel` for one named channel (e.g. ``sms``)."""

    def __init__(self, name: str, directory: RecipientDirectory, sender: MessageSender) -> None:
        self.name, self.directory, self.sender = name, directory, sender
        self._delivered: dict[tuple[str, str, str, bool], None] = {}

    def send(self, alert: Alert) -> str:
        """Message every recipient who takes this alert here; the targets reached, or ``none``.

        A retry after a partial failure resends only to those not yet reached.
        """
        text = message_text(alert)
        reached = []
        for recipient in self.directory.for_alert(alert, self.name):
            # each repeat, escalation or reminder moves updated_at: news again
            key = (
                str(alert.alert_id),
                recipient.target,
                alert.updated_at.isoformat(),
                alert.escalated,
            )
            if key in self._delivered:
                reached.append(recipient.target)
                continue
            self.sender.deliver(recipient.target, text)  # ChannelError propagates: retried
            self._delivered[key] = None
            reached.append(recipient.target)
        if len(self._delivered) > 10_000:
            self._delivered.clear()
        return ",".join(reached) or "none"

    def close(self) -> None:
        """Nothing to release."""
