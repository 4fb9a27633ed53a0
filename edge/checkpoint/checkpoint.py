"""The checkpoint's composition: the vehicle desk (fed by staff and the camera) and its page."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from edge.checkpoint.access import PageAccess, load_access_token
from edge.checkpoint.codes import read_code
from edge.checkpoint.config import CheckpointConfig
from edge.checkpoint.desk import DeskSite, Submit, VehicleDesk
from edge.checkpoint.identity import IdReader, load_identity_key
from edge.checkpoint.server import CheckpointServer
from edge.checkpoint.verdict import DeskRules
from edge.config import EdgeConfig
from edge.pipeline import FramePipeline
from edge.publish.link import EdgeLink
from edge.verify.policy import CodePolicy

logger = logging.getLogger(__name__)


class Checkpoint:
    """Vehicle mode on an edge agent; built only when ``EdgeConfig.checkpoint`` is set."""

    def __init__(
        self,
        config: EdgeConfig,
        settings: CheckpointConfig,
        pipeline: FramePipeline,
        submit: Submit,
    ) -> None:
        self.settings = settings
        key_file = settings.identity_key_file
        ids = IdReader(load_identity_key(key_file)) if key_file is not None else None
        self.ids_enabled = ids is not None
        token_file = settings.access_token_file
        self.access = PageAccess(load_access_token(token_file) if token_file else None)
        self.desk = VehicleDesk(
            DeskSite(config.device_id, config.site_id, config.passage.gate_id),
            settings,
            self._rules(config.codes.policy),
            partial(read_code, pipeline),
            submit,
            ids=ids,
        )
        self._link: EdgeLink | None = None
        self.server: CheckpointServer | None = None

    def _rules(self, policy: CodePolicy) -> DeskRules:
        return DeskRules(policy, self.settings.require_id, self.settings.destination_required)

    def attach(self, pipeline: FramePipeline, policy: CodePolicy) -> None:
        """Verify typed codes with a new pipeline and policy (after a config reload)."""
        self.desk.attach(partial(read_code, pipeline), self._rules(policy))

    def uplink(self) -> dict[str, Any]:
        """Whether the hub is reachable and how many events wait in the outbox for it."""
        if self._link is None:
            return {"connected": False, "queued": None}
        stats = self._link.stats()
        return {"connected": stats.connected, "queued": stats.queue_depth}

    def start(self, link: EdgeLink) -> None:
        """Serve the operator page (the agent's link is already running)."""
        self._link = link
        self.server = CheckpointServer(self, self.settings.host, self.settings.port)
        self.server.start()
        logger.info("checkpoint page on %s:%s", self.settings.host, self.server.port)

    def stop(self) -> None:
        """Stop the page; vehicles still open are lost (nothing was decided for them)."""
        still_open = [v["plate"] for v in self.desk.view()["vehicles"]]
        if still_open:
            logger.warning("vehicles still open at shutdown, not sent: %s", ", ".join(still_open))
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._link = None
