"""The composition root: settings → store → face index → push → effects → ingest → API."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from types import FrameType

import uvicorn
from fastapi import FastAPI
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
)
from threadpoolctl import threadpool_limits

from hub.alerts.effects import AlertEffects
from hub.alerts.escalation import Escalator
from hub.alerts.lifecycle import remind_due
from hub.api.main import create_app
from hub.config import HubSettings
from hub.faces.announcer import GalleryAnnouncer
from hub.faces.enroll import load_index
from hub.faces.vault import FaceVault
from hub.groups.alerts import raise_group_code_alerts
from hub.ingest.consumer import IngestConsumer
from hub.ingest.effects import EventEffects
from hub.ingest.registrations import RegistrationConsumer
from hub.ledger.lookup import SqlLedgerLookup
from hub.match.faces import FaceIndex
from hub.mqtt import hub_publisher
from hub.push.base import AlertChannel
from hub.push.dispatcher import PushDispatcher
from hub.push.http_sms import HttpSmsSender, sms_sender
from hub.push.log import LogSender
from hub.push.mqtt import MqttAlertChannel
from hub.push.personal import PersonalChannel
from hub.push.recipients import RecipientDirectory
from hub.push.sse import SseBroadcaster
from hub.push.webhook import WebhookChannel, worker_webhooks
from hub.registrations.desk import RegistrationDesk
from hub.reports.desk import ReportDesk
from hub.reports.retention import DailyPurge
from hub.rules.config import SiteRules, load_rules
from hub.store.db import Store
from hub.tasks.daily import DailyTasks
from models.signals import wait_until_set

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 30


def new_registry() -> CollectorRegistry:
    """A metrics registry with the process, platform and GC collectors."""
    registry = CollectorRegistry()
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


def _note_signal(signum: int, _frame: FrameType | None) -> None:
    logger.info("received %s; stopping", signal.Signals(signum).name)


class Hub:
    """One hub process, built in flow order: store → face index → push → effects → ingest → API.

    ``effects=None`` builds the standard match-and-alert effects; pass
    :class:`hub.ingest.effects.NoEffects` for a store-only worker.
    """

    def __init__(
        self,
        settings: HubSettings,
        *,
        effects: EventEffects | None = None,
        with_api: bool = True,
        extra_channels: Sequence[AlertChannel] = (),
    ) -> None:
        self.settings = settings
        threadpool_limits(limits=settings.blas_threads, user_api="blas")
        self.registry = new_registry()
        logger.info("opening the store and applying migrations")
        self.store = Store.open(settings.database_url)
        self.vault = FaceVault.for_hub(settings)
        with self.store.transaction() as session:
            self.faces: FaceIndex = load_index(session, self.vault)
        logger.info("face index: %d enrolled residents", len(self.faces))
        self.alerts_stream = SseBroadcaster()
        self.recipients = RecipientDirectory(self.store)
        self.sms = sms_sender(settings)
        self.push = PushDispatcher(self.store, [*self._default_channels(), *extra_channels])
        if effects is None:
            rules = load_rules(settings.rules_file) if settings.rules_file else SiteRules()
            effects = AlertEffects(
                ledger=SqlLedgerLookup, faces=self.faces, sink=self.push, rules=rules.for_site
            )
        self.ingest = IngestConsumer(settings, self.store, effects=effects, registry=self.registry)
        self.registrations = RegistrationConsumer(settings, self.store, self.vault)
        self.galleries = GalleryAnnouncer(
            self.store, self.vault, hub_publisher(settings, "gallery"), settings.gallery_announce_s
        )
        self.escalator = Escalator(
            self.store,
            self.push,
            timedelta(minutes=settings.escalate_after_min),
            extra_checks=[
                partial(remind_due, after=timedelta(hours=settings.remind_after_h)),
                raise_group_code_alerts,
                DailyPurge(settings.report_retention_days, settings.zone),
                DailyTasks(settings.zone),
            ],
        )
        self.api: FastAPI | None = (
            create_app(
                settings,
                self.store,
                ingest=self.ingest,
                registry=self.registry,
                alerts_stream=self.alerts_stream,
                recipients=self.recipients,
            )
            if with_api
            else None
        )
        self.reports: ReportDesk | None = None
        if self.api is not None:
            self.api.state.registrations = RegistrationDesk(
                self.store, self.vault, self.faces, on_enrolled=self.galleries.announce_soon
            )
            if settings.identity_key is not None:  # reports' alerts go through push
                self.reports = ReportDesk.for_hub(settings, self.store, self.sms, self.push)
                self.api.state.reports = self.reports
        self._started = False

    def _default_channels(self) -> list[AlertChannel]:
        s = self.settings
        channels: list[AlertChannel] = [
            self.alerts_stream,
            MqttAlertChannel(hub_publisher(s, "push")),
            PersonalChannel("sms", self.recipients, self.sms),
            PersonalChannel("email", self.recipients, LogSender("email")),
        ]
        if s.webhook_secret is not None:  # webhooks are only ever sent signed
            secret = s.webhook_secret.get_secret_value().encode()
            channels.append(worker_webhooks(self.recipients, secret))
            if s.webhook_url is not None:
                channels.append(WebhookChannel(str(s.webhook_url), secret, name="centre_webhook"))
        return channels

    def start(self) -> None:
        """Start push, then ingest (the store is ready once built)."""
        # What was built so far (modules, schemas, the face index) lives as long as the
        # process: keep the cyclic GC from rescanning it on every full collection.
        gc.freeze()
        self.store.start_checkpoints()
        self.push.start()
        self.ingest.start()
        self.registrations.start()
        self.escalator.start()
        self.galleries.start()
        self._started = True
        logger.info(
            "ingest started: %s and %s on %s:%s as %s",
            self.ingest.events_filter,
            self.ingest.status_filter,
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            self.settings.mqtt_client_id,
        )

    def stop(self) -> None:
        """Stop ingest (storing and acking what it holds), then push, then close the store."""
        if self._started:
            self.galleries.stop()
            self.escalator.stop()
            self.ingest.stop()
            self.registrations.stop()
            self._started = False
        if self.reports is not None:
            self.reports.close()
        self.push.stop()
        if isinstance(self.sms, HttpSmsSender):
            self.sms.close()
        self.store.close()
        stats = self.ingest.stats()
        logger.info(
            "hub stopped: stored %d new events (%d duplicates, %d dead letters) in %d batches",
            stats.stored,
            stats.duplicates,
            stats.dead_letters,
            stats.batches,
        )

    def serve(self) -> None:
        """Run ingest and the API until uvicorn is told to exit (SIGINT/SIGTERM)."""
        if self.api is None:
            raise RuntimeError("this hub was built without its API")
        config = uvicorn.Config(
            self.api,
            host=self.settings.api_host,
            port=self.settings.api_port,
            log_config=None,
        )
        # uvicorn restores the handlers it found and re-raises the signal that stopped it:
        # with ours in place that lands here instead of killing the process before stop().
        previous = {
            sig: signal.signal(sig, _note_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        self.start()
        try:
            uvicorn.Server(config).run()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def run_ingest(self, stop: threading.Event) -> None:
        """Run ingest only, until ``stop`` is set."""
        self.start()
        try:
            if self.ingest.wait_ready(READY_TIMEOUT_S):
                logger.info("ingest subscribed: taking events")
            else:
                logger.warning("ingest not subscribed after %d s; still trying", READY_TIMEOUT_S)
            wait_until_set(stop)
        finally:
            self.stop()
