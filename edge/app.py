"""The edge agent's composition root: builds every component from the config and runs them.

Start order follows the data flow backwards, so nothing produces into a component that is
not running: outbox → MQTT link → pipeline thread → camera. Stop runs in reverse, and a
passage still open at shutdown is closed and stored, never lost.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from edge.actuators.base import Actuator, ActuatorConfig
from edge.actuators.gpio import GpioRelayActuator
from edge.actuators.http import HttpRelayActuator
from edge.actuators.log import LogActuator
from edge.capture import FrameSource, LatestFrameReader, open_source
from edge.checkpoint.checkpoint import Checkpoint
from edge.config import ConfigError, EdgeConfig, load_config
from edge.decoders.faces.base import FaceBackend
from edge.decoders.faces.stage import FaceStage
from edge.decoders.payloads import PayloadClassifier
from edge.decoders.qr import registry as qr_registry
from edge.decoders.qr.base import QrDecoder
from edge.gallery import Gallery
from edge.gallery_sync import GallerySync
from edge.kiosk.kiosk import Kiosk
from edge.kiosk.link import KioskLink
from edge.notify import SystemdNotifier
from edge.passage.assembler import PassageAssembler
from edge.passage.privacy import without_face_data
from edge.pipeline import FramePipeline
from edge.publish.config import OutboxConfig
from edge.publish.link import EdgeLink, PayloadHandler
from edge.publish.outbox import Outbox
from edge.verify.base import VERIFIER_MODULES, HealthCodeVerifier
from edge.verify.base import verifiers as verifier_registry
from edge.verify.online import OnlineVerifier
from edge.verify.trust import PinnedHubKeys, TrustStore
from edge.version import agent_version
from models import topics
from models.base import utc_now
from models.codec import decode
from models.commands import (
    RESTART_PENDING,
    CommandName,
    CommandResult,
    ConfigPush,
    DeviceCommand,
    config_digest,
)
from models.events import GateAction, GateDecision, HealthCodeFormat, PassageEvent
from models.status import ComponentVersions, DeviceStatus, DeviceWarning
from models.trust import SignedTrustList

log = logging.getLogger(__name__)
EventListener = Callable[[PassageEvent], None]


RESTART_SECTIONS = (
    "device_id",
    "site_id",
    "data_dir",
    "capture",
    "mqtt",
    "actuator",
    "gallery",
    "kiosk",
    "checkpoint",
    "outbox_max_events",
)
"""Config sections held by long-lived parts (link, camera, relay): applied on restart only."""


REMOTE_OPEN = "remote_open"
"""Reason of a hub's open_gate: the relay is driven when the command runs, and the passage
recording it is not actuated again when it closes."""


def config_version(config: EdgeConfig) -> str:
    """A short digest of a config that has no file (an agent built in code)."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def write_synced(path: Path, document: bytes, mode: int = 0o600) -> None:
    """Create or truncate ``path`` (new files get ``mode``) and write ``document`` to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(document)
        out.flush()
        os.fsync(out.fileno())


def write_config_file(path: Path, document: bytes) -> None:
    """Replace ``path`` atomically with ``document`` (its mode kept), the old file kept as
    ``<name>.prev``."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o640
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)  # a leftover keeps its own mode
    write_synced(fresh, document, mode)
    if path.exists():
        previous = path.with_name(path.name + ".prev.new")
        shutil.copy2(path, previous)
        previous.replace(path.with_name(path.name + ".prev"))
    fresh.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def build_actuator(config: ActuatorConfig) -> Actuator:
    """The actuator the config names."""
    if config.kind == "http":
        return HttpRelayActuator(config)
    if config.kind == "gpio":
        return GpioRelayActuator(config)
    return LogActuator()


def build_pipeline(
    config: EdgeConfig,
    gallery: Gallery,
    trust: TrustStore,
    *,
    qr: QrDecoder | None = None,
    face_backend: FaceBackend | None = None,
) -> FramePipeline:
    """Decoders, verifiers, face stage and passage assembler, wired in flow order."""
    verifier_registry.load(VERIFIER_MODULES)
    verifiers: dict[HealthCodeFormat, HealthCodeVerifier] = {
        HealthCodeFormat(name): verifier_registry.create(name, trust, config.codes.policy)
        for name in verifier_registry.available()
    }
    if config.codes.online is not None:
        verifiers[HealthCodeFormat.ONLINE] = OnlineVerifier(
            config.codes.online, config.codes.policy
        )
    faces = FaceStage(config.faces, gallery, backend=face_backend) if config.faces.enabled else None
    return FramePipeline(
        qr=qr or qr_registry.create(config.qr.backend, deadline_s=config.qr.deadline_s),
        classifier=PayloadClassifier(config.qr.payloads),
        verifiers=verifiers,
        assembler=PassageAssembler(config.passage, config.policy, config.device_id, config.site_id),
        faces=faces,
    )


class EdgeAgent:
    """One gate camera: capture → pipeline → actuator and outbox → MQTT."""

    def __init__(
        self,
        config: EdgeConfig,
        *,
        source: FrameSource | None = None,
        qr: QrDecoder | None = None,
        face_backend: FaceBackend | None = None,
        config_path: Path | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self._config_lock = threading.RLock()  # a push and a reload_config never interleave
        self._config_digest = self._file_digest() or config_version(config)
        self._config_error: str | None = None  # why the last pushed config was refused
        self._qr, self._face_backend = qr, face_backend
        config.data_dir.mkdir(parents=True, exist_ok=True)
        config.data_dir.chmod(0o700)  # gallery encodings are biometric data
        hub_files = config.codes.hub_key_files()
        hub_key = PinnedHubKeys.from_files(hub_files) if hub_files else None
        self._hub_key = hub_key
        self.gallery = Gallery.load(config.path("gallery.json"))
        self.trust = TrustStore.load(config.path("trust.json"), hub_key)
        self.pipeline = build_pipeline(
            config, self.gallery, self.trust, qr=qr, face_backend=face_backend
        )
        self.actuator = build_actuator(config.actuator)
        self.outbox = Outbox(
            OutboxConfig(path=config.path("outbox.db"), max_events=config.outbox_max_events)
        )
        subscriptions: dict[str, PayloadHandler] = {topics.trust_list(): self._on_trust_list}
        subscriptions[topics.config(config.site_id, config.device_id)] = self._on_config_push
        self.gallery_sync: GallerySync | None = None
        if config.gallery is not None:
            self.gallery_sync = GallerySync(
                config.gallery,
                config.mqtt,
                device_id=config.device_id,
                site_id=config.site_id,
                gallery=self.gallery,
                cache=config.path("gallery.json"),
            )
            subscriptions[topics.gallery(config.site_id)] = self.gallery_sync.on_manifest
        self.kiosk = (
            Kiosk(config, config.kiosk, self.pipeline) if config.kiosk is not None else None
        )
        if self.kiosk is not None:
            subscriptions.update(self.kiosk.subscriptions())
        self.checkpoint = (
            Checkpoint(config, config.checkpoint, self.pipeline, self._emit)
            if config.checkpoint is not None
            else None
        )
        link_type = EdgeLink if self.kiosk is None else KioskLink
        self.link = link_type(
            config.mqtt,
            self.outbox,
            site_id=config.site_id,
            device_id=config.device_id,
            status_provider=self.status,
            on_command=self.handle_command,
            subscriptions=subscriptions,
        )
        self.reader = LatestFrameReader(
            source or open_source(config.capture),
            retry_initial_s=config.capture.retry_initial_s,
            retry_max_s=config.capture.retry_max_s,
            lost_after_s=config.capture.lost_after_s,
        )
        self.listeners: list[EventListener] = []
        if self.kiosk is not None:
            self.listeners.append(self.kiosk.session.observe)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.notifier = SystemdNotifier.from_env()  # READY/WATCHDOG under systemd

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the link, the pipeline thread and the camera, in that order."""
        self.link.start()
        if self.gallery_sync is not None:
            self.gallery_sync.start()
        if self.kiosk is not None:
            self.kiosk.start(self.link)
        if self.checkpoint is not None:
            self.checkpoint.start(self.link)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="edge-pipeline", daemon=True)
        self._thread.start()
        self.reader.start()
        log.info("edge agent %s/%s started", self.config.site_id, self.config.device_id)
        self.notifier.ready()

    def stop(self) -> None:
        """Stop the camera, flush the open passage, stop the link; the outbox keeps the rest."""
        self.reader.close()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            event = self.pipeline.tick(time.monotonic(), force=True)
        if event is not None:
            self._emit(event)
        if self.gallery_sync is not None:
            self.gallery_sync.stop()
        if self.kiosk is not None:
            self.kiosk.stop()
        if self.checkpoint is not None:
            self.checkpoint.stop()
        self.link.stop()
        self.actuator.close()
        self.outbox.close()
        log.info("edge agent stopped")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.notifier.watchdog()
            frame = self.reader.get(timeout=0.2)
            with self._lock:
                if frame is None:
                    event = self.pipeline.tick(time.monotonic())
                else:
                    event = self.pipeline.process(frame.image, frame.monotonic, frame.captured_at)
            if event is not None:
                self._emit(event)

    def _emit(self, event: PassageEvent) -> None:
        if self.checkpoint is not None and event.vehicle is None:
            self.checkpoint.desk.observe(event)  # codes feed the open vehicle, nothing is sent
            return
        if REMOTE_OPEN not in event.decision.reasons:  # a remote open drove the relay at once
            self.actuator.apply(event.decision)
        self.link.submit(event if self.config.faces.send_encodings else without_face_data(event))
        for listener in self.listeners:  # on the device: the kiosk needs the encoding
            listener(event)

    # -- status and commands -----------------------------------------------------------------

    def status(self) -> DeviceStatus:
        """Heartbeat: fps, camera state and applied versions (the link fills the queue)."""
        reader = self.reader.stats()
        return DeviceStatus(
            device_id=self.config.device_id,
            site_id=self.config.site_id,
            online=True,
            reported_at=utc_now(),
            fps=round(reader.fps, 2),
            camera=reader.state,
            versions=ComponentVersions(
                agent=agent_version(),
                config=self._config_digest,
                gallery=self.gallery.version,
                trust_list=str(self.trust.version) if self.trust.version is not None else None,
            ),
            trust_synced_at=self.trust.synced_at,
            config_error=self._config_error,
            warnings=self._warnings(),
        )

    def _warnings(self) -> list[DeviceWarning]:
        refused = [DeviceWarning.CONFIG_REFUSED] if self._config_error else []
        return refused + self._trust_warnings()

    def _trust_warnings(self) -> list[DeviceWarning]:
        synced = self.trust.synced_at
        if self.trust.version is None or synced is None:
            return [DeviceWarning.TRUST_LIST_MISSING]
        stale_after = timedelta(hours=self.config.codes.trust_stale_after_h)
        return [DeviceWarning.TRUST_LIST_STALE] if utc_now() - synced > stale_after else []

    def handle_command(self, command: DeviceCommand) -> CommandResult:
        """Carry out a hub command and say how it went."""
        ok, detail = True, "done"
        if command.name is CommandName.OPEN_GATE:
            decision = GateDecision(
                action=GateAction.OPEN, reasons=[REMOTE_OPEN], operator_id=command.issued_by
            )
            ok = self.actuator.apply(decision)
            with self._lock:
                self.pipeline.assembler.override(decision, time.monotonic(), utc_now())
            detail = "gate opened" if ok else "relay did not answer"
        elif command.name is CommandName.SYNC_GALLERY and self.gallery_sync is not None:
            self.gallery_sync.resync()
            detail = f"gallery {self.gallery.version}: fetching the announced version"
        elif command.name is CommandName.SYNC_GALLERY:
            fresh = Gallery.load(self.config.path("gallery.json"))
            self.gallery.replace(fresh.refs(), fresh.encodings(), fresh.version or "")
            detail = f"gallery {self.gallery.version} with {len(self.gallery)} entries"
        elif command.name is CommandName.RELOAD_TRUST_LIST:
            fresh_trust = TrustStore.load(self.config.path("trust.json"), self._hub_key)
            if fresh_trust.document is not None:
                self.trust.replace(fresh_trust.document)
            detail = f"trust list version {self.trust.version}"
        elif command.name is CommandName.RELOAD_CONFIG:
            ok, detail = self.reload_config()
        else:
            ok, detail = False, f"{command.name} is not supported by this agent yet"
        return CommandResult(
            command_id=command.command_id,
            device_id=self.config.device_id,
            ok=ok,
            detail=detail,
            completed_at=utc_now(),
        )

    def reload_config(self) -> tuple[bool, str]:
        """Re-read the config file and rebuild the pipeline (decoders, verifiers, policies,
        passage); sections that need a restart are named, not applied, and until then the
        status reports the file's version with ``-restart`` appended."""
        with self._config_lock:
            return self._reload_config()

    def _reload_config(self) -> tuple[bool, str]:
        if self.config_path is None:
            return False, "this agent was started without a config file"
        digest = self._file_digest()
        try:
            fresh = load_config(self.config_path)
        except ConfigError as exc:
            return False, f"config not reloaded: {exc}"[:500]
        restart = [
            name for name in RESTART_SECTIONS if getattr(fresh, name) != getattr(self.config, name)
        ]
        kept = fresh.model_copy(
            update={name: getattr(self.config, name) for name in RESTART_SECTIONS}
        )
        pipeline = build_pipeline(
            kept, self.gallery, self.trust, qr=self._qr, face_backend=self._face_backend
        )
        if self.kiosk is not None:
            self.kiosk.attach(pipeline)
        if self.checkpoint is not None:
            self.checkpoint.attach(pipeline, kept.codes.policy)
        with self._lock:
            event = self.pipeline.tick(time.monotonic(), force=True)
            self.pipeline, self.config = pipeline, kept
        if event is not None:
            self._emit(event)
        version = digest or config_version(kept)
        self._config_digest = version + RESTART_PENDING if restart else version
        if restart:
            return True, f"config {version} applied in part; restart to apply: {', '.join(restart)}"
        return True, f"config {version} applied"

    def _file_digest(self) -> str | None:
        try:
            return config_digest(self.config_path.read_bytes()) if self.config_path else None
        except OSError:
            return None

    def _on_config_push(self, payload: bytes) -> None:
        push = decode(ConfigPush, payload)  # a bad payload is counted and logged by the link
        if push.digest != self._config_digest:  # retained: it comes again on every reconnect
            threading.Thread(
                target=self.apply_pushed_config, args=(push,), name="edge-config", daemon=True
            ).start()

    def apply_pushed_config(self, push: ConfigPush) -> tuple[bool, str]:
        """Check a config the hub pushed, write it over the config file (the old one kept as
        ``.prev``) and reload; a refused one leaves the file alone and sets ``config_error``."""
        with self._config_lock:
            if push.digest == self._config_digest:
                return True, f"config {push.digest} is in force"
            if self._file_digest() == push.digest:  # written before; waits for a restart
                return True, f"config {push.digest} written; restart to apply it in full"
            problem = self._push_problem(push)
            if problem is None and self.config_path is not None:
                try:
                    write_config_file(self.config_path, push.document.encode())
                except OSError as exc:
                    problem = f"cannot write {self.config_path}: {exc.strerror}"
            if problem is not None:
                self._config_error = f"config {push.digest} refused: {problem}"[:500]
                log.warning("%s", self._config_error)
                return False, self._config_error
            self._config_error = None
            ok, detail = self._reload_config()
            log.info("pushed %s", detail)
            return ok, detail

    def _push_problem(self, push: ConfigPush) -> str | None:
        """Why ``push`` cannot be applied here, or None."""
        if self.config_path is None:
            return "this agent was started without a config file"
        document = push.document.encode()
        if push.device_id != self.config.device_id:
            return f"it is for device {push.device_id}"
        if config_digest(document) != push.digest:
            return "its digest does not match the document"
        candidate = self.config_path.with_name(self.config_path.name + ".pushed")
        try:
            candidate.unlink(missing_ok=True)
            write_synced(candidate, document)  # load_config reads files
            fresh = load_config(candidate)
        except ConfigError as exc:
            return "; ".join(exc.problems)
        except OSError as exc:
            return f"cannot write next to {self.config_path}: {exc.strerror}"
        finally:
            candidate.unlink(missing_ok=True)
        if (fresh.device_id, fresh.site_id) != (self.config.device_id, self.config.site_id):
            return f"it names device {fresh.device_id} of site {fresh.site_id}"
        return None

    def _on_trust_list(self, payload: bytes) -> None:
        if self._hub_key is None:
            log.warning("ignoring a trust list: no hub public key is configured")
            return
        signed = decode(SignedTrustList, payload)
        if self.trust.apply_signed(signed, self._hub_key, self.config.path("trust.json")):
            log.info("trust list version %s applied", signed.document.version)
