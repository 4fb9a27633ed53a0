"""The kiosk's composition: session (fed by the pipeline), outbox, uplink and local screen."""

from __future__ import annotations

import logging
from uuid import UUID

from edge.config import EdgeConfig
from edge.kiosk.config import KioskConfig
from edge.kiosk.consent import CONSENT_VERSION
from edge.kiosk.link import KioskLink
from edge.kiosk.names import NameTap
from edge.kiosk.outbox import RegistrationOutbox
from edge.kiosk.server import KioskServer
from edge.kiosk.session import KioskSession
from edge.kiosk.uplink import RegistrationUplink
from edge.pipeline import FramePipeline
from edge.publish.link import EdgeLink, PayloadHandler
from models.base import utc_now
from models.events import HealthCodeFormat

logger = logging.getLogger(__name__)


class Kiosk:
    """Self-registration on an edge agent; built only when ``EdgeConfig.kiosk`` is set."""

    def __init__(self, config: EdgeConfig, settings: KioskConfig, pipeline: FramePipeline) -> None:
        self.config = config
        self.settings = settings
        self.session = KioskSession(settings.session_timeout_s, settings.min_face_quality)
        self.attach(pipeline)
        self.outbox = RegistrationOutbox(
            config.path("registrations.db"), settings.outbox_max_requests
        )
        self.uplink = RegistrationUplink(
            self.outbox,
            site_id=config.site_id,
            device_id=config.device_id,
            ack_timeout_s=config.mqtt.ack_timeout_s,
        )
        self.server: KioskServer | None = None

    def attach(self, pipeline: FramePipeline) -> None:
        """Tap the pipeline's pass verifier for masked names (again after a config reload)."""
        gridgate = pipeline.verifiers.get(HealthCodeFormat.GRIDGATE)
        if gridgate is not None and not isinstance(gridgate, NameTap):
            pipeline.verifiers[HealthCodeFormat.GRIDGATE] = NameTap(
                gridgate, self.session.note_name
            )

    def subscriptions(self) -> dict[str, PayloadHandler]:
        """The link subscriptions the kiosk needs (the hub's registration acks)."""
        return {self.uplink.ack_topic: self.uplink.on_ack}

    def agree(self) -> UUID:
        """Store the session's request durably and send it; raises what is missing."""
        request = self.session.agree(
            device_id=self.config.device_id,
            site_id=self.config.site_id,
            consent_version=CONSENT_VERSION,
            now=utc_now(),
        )
        self.outbox.put(request)
        self.uplink.wake()
        logger.info("registration %s stored for the hub", request.request_id)
        return request.request_id

    def start(self, link: EdgeLink) -> None:
        """Start the uplink on the agent's link, then the screen."""
        if not isinstance(link, KioskLink):
            raise TypeError("a kiosk sends through a KioskLink")
        self.uplink.start(link)
        self.server = KioskServer(self, self.settings.host, self.settings.port)
        self.server.start()

    def stop(self) -> None:
        """Stop the screen and the uplink; the outbox keeps unacknowledged requests."""
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.uplink.stop()
        self.session.cancel()
        self.outbox.close()
