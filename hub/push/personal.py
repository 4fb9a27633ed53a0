"""A channel that messages people (SMS, e-mail …) through a sender, one message per recipient."""

from __future__ import annotations

from collections.abc import Callable
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


class ClosingSender(MessageSender, Protocol):
    """A sender holding connections (e.g. an HTTP client)."""

    def close(self) -> None:
        """Release them."""
        ...


class PersonalChannel:
    """Implements :class:`hub.push.base.AlertChannel` for one named channel (e.g. ``sms``).

    ``render`` turns the alert into what the sender sends (the short text by default; the
    webhook channel sends its JSON body); ``shown`` is how a target is recorded in the
    delivery (e.g. a URL without its token); ``owned`` is a sender closed with the channel.
    """

    def __init__(
        self,
        name: str,
        directory: RecipientDirectory,
        sender: MessageSender,
        *,
        render: Callable[[Alert], str] = message_text,
        shown: Callable[[str], str] = str,
        owned: ClosingSender | None = None,
    ) -> None:
        self.name, self.directory, self.sender = name, directory, sender
        self.render, self.shown, self._owned = render, shown, owned
        self._delivered: dict[tuple[str, str, str, bool], None] = {}

    def send(self, alert: Alert) -> str:
        """Message every recipient who takes this alert here; the targets reached, or ``none``.

        A retry after a partial failure resends only to those not yet reached.
        """
        recipients = self.directory.for_alert(alert, self.name)
        text = self.render(alert) if recipients else ""
        reached = []
        for recipient in recipients:
            # each repeat, escalation or reminder moves updated_at: news again
            key = (
                str(alert.alert_id),
                recipient.target,
                alert.updated_at.isoformat(),
                alert.escalated,
            )
            if key not in self._delivered:
                self.sender.deliver(recipient.target, text)  # ChannelError propagates: retried
                self._delivered[key] = None
            reached.append(self.shown(recipient.target))
        if len(self._delivered) > 10_000:
            self._delivered.clear()
        return ",".join(reached) or "none"

    def close(self) -> None:
        """Close the sender if the channel owns it."""
        if self._owned is not None:
            self._owned.close()
