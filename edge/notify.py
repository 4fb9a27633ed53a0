"""systemd's readiness and watchdog protocol (sd_notify) without libsystemd.

Under a ``Type=notify`` unit systemd passes ``NOTIFY_SOCKET`` (a unix datagram socket, ``@``
for the abstract namespace) and, with ``WatchdogSec=``, ``WATCHDOG_USEC`` and
``WATCHDOG_PID``. The agent sends ``READY=1`` once it runs and ``WATCHDOG=1`` from its
pipeline loop, at most every half watchdog period; a loop that hangs stops the pings and
systemd restarts the service. Outside systemd every call is a no-op. A send that fails is
logged and reported as False, never raised into the pipeline.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def socket_address(value: str) -> str:
    """``NOTIFY_SOCKET`` as a socket address: a leading ``@`` means the abstract namespace."""
    return "\0" + value[1:] if value.startswith("@") else value


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between pings (half of ``WATCHDOG_USEC``), or None when the watchdog is off
    or meant for another process."""
    usec = environ.get("WATCHDOG_USEC", "")
    owner = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and (not owner.isdigit() or int(owner) != pid):
        return None
    return int(usec) / 2_000_000


class SystemdNotifier:
    """Sends sd_notify states to one socket; ``watchdog()`` rate-limits itself."""

    def __init__(
        self,
        address: str | None,
        watchdog_interval_s: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = address
        self.watchdog_interval_s = watchdog_interval_s
        self._clock = clock
        self._last_ping: float | None = None
        self._warned = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SystemdNotifier:
        """The notifier systemd asked for through the environment (a no-op one if none)."""
        env = os.environ if environ is None else environ
        value = env.get("NOTIFY_SOCKET", "")
        address = socket_address(value) if value else None
        return cls(address, watchdog_interval(env, os.getpid()) if address else None)

    @property
    def enabled(self) -> bool:
        """True when running under a unit that listens for notifications."""
        return self.address is not None

    def notify(self, state: str) -> bool:
        """Send one state string (``KEY=value`` lines); False when not sent."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(state.encode(), self.address)
        except OSError as exc:
            if not self._warned:
                log.warning("sd_notify to %r failed: %s", self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self) -> bool:
        """Tell systemd the service is up (``Type=notify`` waits for this)."""
        return self.notify("READY=1")

    def watchdog(self) -> bool:
        """Ping the watchdog if half its period has passed since the last ping."""
        if self.watchdog_interval_s is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.watchdog_interval_s:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")
