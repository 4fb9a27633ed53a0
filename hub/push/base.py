"""The alert channel protocol."""

from __future__ import annotations

from typing import Protocol

from models.alerts import Alert


class ChannelError(RuntimeError):
    """A delivery that failed and may be retried."""


class AlertChannel(Protocol):
    """Delivers one alert to the people or systems behind this channel."""

    name: str

    def send(self, alert: Alert) -> str:
        """Deliver ``alert``; return the target it reached; raise :class:`ChannelError`."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
