"""Delivery of registration requests: resent from the outbox until the hub's ack names them.

Rides on the kiosk's :class:`~edge.kiosk.link.KioskLink` (one MQTT session per device): a
sender thread publishes due requests whenever the link is ready, and the ack handler (an
extra subscription of the link) removes them. A broker outage only delays them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from uuid import UUID

from edge.kiosk.link import KioskLink
from edge.kiosk.outbox import RegistrationOutbox
from models import decode, topics
from models.registrations import RegistrationAck

logger = logging.getLogger(__name__)

_REMEMBERED = 64


class RegistrationUplink:
    """Sends a kiosk's stored requests and takes the hub's acks."""

    def __init__(
        self,
        outbox: RegistrationOutbox,
        *,
        site_id: str,
        device_id: str,
        ack_timeout_s: float,
        tick_s: float = 0.2,
    ) -> None:
        self.outbox = outbox
        self.device_id = device_id
        self.topic = topics.registrations(site_id, device_id)
        self.ack_topic = topics.registration_ack(site_id, device_id)
        self.ack_timeout_s = ack_timeout_s
        self.tick_s = tick_s
        self.outcomes: OrderedDict[UUID, bool] = OrderedDict()
        """The latest acks: request id → accepted."""
        self._link: KioskLink | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, link: KioskLink) -> None:
        """Start sending through ``link``."""
        self._link = link
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kiosk-uplink", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending; unacknowledged requests stay in the outbox."""
        with self._lock:  # no ack handler touches the outbox after this
            self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def wake(self) -> None:
        """A request was just stored: send it now."""
        self._wake.set()

    def outcome(self, request_id: UUID) -> bool | None:
        """Whether the hub accepted a request (None: no ack yet)."""
        with self._lock:
            return self.outcomes.get(request_id)

    def on_ack(self, payload: bytes) -> None:
        """Handle a :class:`RegistrationAck` (a link subscription handler; raises when bad)."""
        ack = decode(RegistrationAck, payload)
        if ack.device_id != self.device_id:
            raise ValueError(f"registration ack for device {ack.device_id}")
        if not ack.accepted:
            logger.warning("hub refused registration %s: %s", ack.request_id, ack.reason)
        with self._lock:
            if self._stop.is_set():
                return  # stopping: the request stays stored and is sent again next time
            self.outbox.remove([ack.request_id])
            self.outcomes[ack.request_id] = ack.accepted
            while len(self.outcomes) > _REMEMBERED:
                self.outcomes.popitem(last=False)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            link = self._link
            if link is None or not link.ready:
                continue
            now = time.time()
            sent = []
            for request in self.outbox.due(now, self.ack_timeout_s):
                if not link.publish(self.topic, request.payload):
                    break
                sent.append(request.request_id)
            if sent:
                self.outbox.mark_sent(sent, now)
