"""The edge agent end to end: an image-folder camera of generated gate scenes, the real
pipeline (zxing, pass verification, faces), a real Mosquitto and a hub stub that acks;
and the ``gridgate-edge`` commands ``scan`` and ``check-config``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from typer.testing import CliRunner

from edge.app import EdgeAgent
from edge.capture import CaptureConfig
from edge.cli import app as cli
from edge.config import CodesConfig, EdgeConfig
from edge.decoders.faces.config import FaceConfig
from edge.decoders.faces.dlib import DlibFaceBackend
from edge.decoders.faces.fake import fake_encoding
from edge.gallery import Gallery
from edge.passage.config import PassageConfig
from edge.publish.config import MqttConfig
from edge.simulate.scenes import Frame, Scene, render
from models import ContractError, DeviceStatus, PassageEvent, decode, topics
from models.base import utc_now
from models.events import (
    CodeColour,
    FaceDecision,
    GateAction,
    ReasonCode,
    VerificationStatus,
)
from models.status import CameraState
from models.trust import IssuerKey, TrustListDocument, sign_trust_list
from tests.edge.helpers import wait_for
from tests.support.broker import MosquittoBroker
from tests.support.hub_stub import HubStub
from tests.support.passes import Issuer

SITE, DEVICE = "site-a", "gate-01"
PLATE = "GGDP1:310101001001"
RESIDENT, STRANGER = 3, 8
"""Fake-backend person ids: the resident is in the gallery, the stranger is not."""
FPS = 20.0
"""Playback rate of the image folder (the camera)."""
WINDOW_S = 1.0
"""Passage window: people are in view for less, and gaps between them last longer."""
STAND, GAP = 6, 34
"""Frames a person is in view (0.3 s) and empty frames after them (1.7 s)."""


class RecordingHub(HubStub):
    """The hub stub, also keeping each distinct event it received, in arrival order."""

    def __init__(self, broker: MosquittoBroker) -> None:
        super().__init__(broker.host, broker.port)
        self.events: list[PassageEvent] = []
        self.payloads: list[bytes] = []

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        super()._on_message(client, userdata, message)
        self.payloads.append(bytes(message.payload))
        try:
            event = decode(PassageEvent, bytes(message.payload))
        except ContractError:
            return
        with self._lock:
            if all(e.event_id != event.event_id for e in self.events):
                self.events.append(event)


@dataclass
class Site:
    """A data directory with a gallery and a hub-signed trust list, and the pass issuer."""

    data_dir: Path
    issuer: Issuer
    hub_key_pem: Path


def _site(tmp_path: Path, gallery: Gallery) -> Site:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    gallery.save(data_dir / "gallery.json")
    issuer, hub = Issuer(kid="health-office"), Issuer(kid="hub")
    document = TrustListDocument(
        version=4,
        issued_at=utc_now(),
        issuers=[IssuerKey(kid=issuer.kid, public_key_pem=issuer.public_pem())],
    )
    signed = sign_trust_list(document, hub.key, hub.kid)
    (data_dir / "trust.json").write_text(signed.model_dump_json(), encoding="utf-8")
    hub_key_pem = tmp_path / "hub.pem"
    hub_key_pem.write_text(hub.public_pem(), encoding="utf-8")
    return Site(data_dir, issuer, hub_key_pem)


@pytest.fixture
def fake_site(tmp_path: Path) -> Site:
    gallery = Gallery()
    gallery.replace(["resident-3"], [fake_encoding(RESIDENT).tolist()], version="g-1")
    return _site(tmp_path, gallery)


def write_folder(
    folder: Path, people: Sequence[Scene], *, stand: int = STAND, gap: int = GAP, tail: int = 0
) -> Path:
    """A camera's worth of PNG frames: empty, then each person for ``stand`` frames
    followed by ``gap`` empty ones, then ``tail`` more empty frames."""
    folder.mkdir(parents=True)
    empty = folder.with_name(f"{folder.name}-empty.png")
    cv2.imwrite(str(empty), render(Scene()))
    names = (folder / f"{i:05d}.png" for i in range(100_000))

    def put(frame: Frame | None) -> None:
        target = next(names)
        if frame is None:
            os.link(empty, target)  # the same empty frame, without encoding it again
        else:
            cv2.imwrite(str(target), frame, [cv2.IMWRITE_PNG_COMPRESSION, 1])

    for _ in range(2):
        put(None)
    for scene in people:
        for step in range(stand):
            put(render(scene, jitter=step))
        for _ in range(gap):
            put(None)
    for _ in range(tail):
        put(None)
    return folder


def _config(site: Site, broker: MosquittoBroker, folder: Path, faces: FaceConfig) -> EdgeConfig:
    return EdgeConfig(
        device_id=DEVICE,
        site_id=SITE,
        data_dir=site.data_dir,
        capture=CaptureConfig(source=str(folder), fps=FPS),
        faces=faces,
        passage=PassageConfig(gate_id="north", window_s=WINDOW_S),
        codes=CodesConfig(hub_public_key=site.hub_key_pem),
        mqtt=MqttConfig(
            host=broker.host,
            port=broker.port,
            heartbeat_s=0.3,
            keepalive_s=5,
            reconnect_min_s=1,
            reconnect_max_s=2,
        ),
    )


def retained_status(broker: MosquittoBroker, timeout: float = 5.0) -> DeviceStatus | None:
    """The retained status as a new subscriber sees it (None when there is none)."""
    received: list[mqtt.MQTTMessage] = []
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.on_message = lambda c, u, m: received.append(m)
    client.connect(broker.host, broker.port)
    client.subscribe(topics.status(SITE, DEVICE), qos=1)
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        client.disconnect()
        client.loop_stop()
    retained = [m for m in received if m.retain]
    return decode(DeviceStatus, bytes(retained[0].payload)) if retained else None


def _running_status(status: DeviceStatus | None) -> bool:
    return (
        status is not None
        and status.online
        and status.camera is CameraState.OK
        and status.fps > 0
        and status.queue_depth == 0
    )


@pytest.fixture
def hub(broker: MosquittoBroker) -> Iterator[RecordingHub]:
    stub = RecordingHub(broker)
    stub.start()
    yield stub
    stub.stop()


def run_agent(config: EdgeConfig, hub: RecordingHub, broker: MosquittoBroker, people: int) -> None:
    """Run the agent until the hub has ``people`` events, the outbox is empty and the
    retained status shows the camera running; then stop it."""
    agent = EdgeAgent(config)
    agent.start()
    try:
        wait_for(lambda: len(hub.events) >= people, 30, f"{people} passage events at the hub")
        wait_for(lambda: agent.outbox.depth() == 0, 15, "the hub's acks to empty the outbox")
        wait_for(lambda: _running_status(retained_status(broker)), 15, "a running status")
    finally:
        agent.stop()


def test_agent_reports_one_passage_per_person_with_local_decisions(
    broker: MosquittoBroker, hub: RecordingHub, fake_site: Site, tmp_path: Path
) -> None:
    green = fake_site.issuer.issue(CodeColour.GREEN, holder_ref="h1:resident3", pass_id="p-0001")
    red = fake_site.issuer.issue(CodeColour.RED, holder_ref="h1:visitor", pass_id="p-0002")
    people = [
        Scene(marker=RESIDENT, codes=[PLATE, green]),
        Scene(marker=STRANGER),
        Scene(codes=[red]),
    ]
    folder = write_folder(tmp_path / "camera", people, tail=120)
    faces = FaceConfig(backend="fake", detect_every=1)
    run_agent(_config(fake_site, broker, folder, faces), hub, broker, len(people))

    assert len(hub.events) == 3
    resident, stranger, red_pass = hub.events
    assert all((e.site_id, e.device_id, e.gate_id) == (SITE, DEVICE, "north") for e in hub.events)

    (face,) = resident.faces()
    assert (face.local_match.decision, face.local_match.resident_ref) == (
        FaceDecision.KNOWN,
        "resident-3",
    )
    assert face.encoding is not None
    assert np.allclose(face.encoding, fake_encoding(RESIDENT), atol=1e-6)  # 6 decimals on the wire
    (plate,) = resident.door_plates()
    assert plate.address_code == "310101001001"
    (code,) = resident.health_codes()
    assert (code.status, code.colour, code.holder_ref) == (
        VerificationStatus.VALID,
        CodeColour.GREEN,
        "h1:resident3",
    )
    assert resident.decision.action is GateAction.OPEN
    assert {"known_face", "green_code"} <= set(resident.decision.reasons)

    (face,) = stranger.faces()
    assert face.local_match.decision is FaceDecision.UNKNOWN
    assert face.local_match.resident_ref is None
    assert not stranger.health_codes() and not stranger.door_plates()
    assert stranger.decision.action is GateAction.HOLD
    assert stranger.decision.reasons == ["unknown_face"]

    (code,) = red_pass.health_codes()
    assert (code.status, code.colour) == (VerificationStatus.VALID, CodeColour.RED)
    assert not red_pass.faces()
    assert red_pass.decision.action is GateAction.DENY
    assert red_pass.decision.reasons == ["red_code"]

    assert hub.first == [e.event_id for e in hub.events]  # sent in the order they happened
    final = retained_status(broker)
    assert final is not None and not final.online  # stopped cleanly: offline, retained
    assert final.versions.gallery == "g-1" and final.versions.trust_list == "4"


def test_a_site_keeping_face_data_on_the_device_sends_only_the_local_decision(
    broker: MosquittoBroker, hub: RecordingHub, fake_site: Site, tmp_path: Path
) -> None:
    people = [Scene(marker=RESIDENT), Scene(marker=STRANGER)]
    folder = write_folder(tmp_path / "camera", people, tail=60)
    faces = FaceConfig(backend="fake", detect_every=1, send_encodings=False)
    run_agent(_config(fake_site, broker, folder, faces), hub, broker, len(people))

    resident, stranger = hub.events
    (face,) = resident.faces()
    assert face.encoding is None and face.crop_jpeg_base64 is None
    assert (face.local_match.decision, face.local_match.resident_ref) == (
        FaceDecision.KNOWN,
        "resident-3",
    )
    assert resident.decision.action is GateAction.OPEN  # decided on the device, as before
    (face,) = stranger.faces()
    assert (face.encoding, face.local_match.decision) == (None, FaceDecision.UNKNOWN)
    assert stranger.decision.reasons == ["unknown_face"]
    assert not any(b'"encoding"' in payload for payload in hub.payloads)


def test_agent_with_dlib_on_real_photos(
    broker: MosquittoBroker, hub: RecordingHub, photos: dict[str, Path], tmp_path: Path
) -> None:
    site = _site(tmp_path, _photo_gallery(photos["obama.jpg"]))
    forged = Issuer(kid=site.issuer.kid).issue()  # right issuer name, wrong key
    people = [
        Scene(face=photos["obama2.jpg"]),  # the resident, another photo, no pass
        Scene(face=photos["biden.jpg"], codes=[forged]),
    ]
    folder = write_folder(tmp_path / "camera", people, stand=8, tail=120)
    faces = FaceConfig(backend="dlib")
    run_agent(_config(site, broker, folder, faces), hub, broker, len(people))

    assert len(hub.events) == 2
    resident, stranger = hub.events
    (face,) = resident.faces()
    assert face.local_match.decision is FaceDecision.KNOWN
    assert face.local_match.resident_ref == "resident-obama"
    assert resident.decision.action is GateAction.OPEN
    assert resident.decision.reasons == ["known_face"]
    (face,) = stranger.faces()
    assert face.local_match.decision is FaceDecision.UNKNOWN
    (code,) = stranger.health_codes()
    assert code.status is VerificationStatus.INVALID
    assert code.reason_codes == [ReasonCode.BAD_SIGNATURE]
    assert stranger.decision.action is GateAction.DENY
    assert "invalid_pass" in stranger.decision.reasons


def _photo_gallery(photo: Path) -> Gallery:
    backend = DlibFaceBackend()
    image = cv2.imread(str(photo))
    assert image is not None
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    (box,) = backend.detect(rgb, upsample=1)
    gallery = Gallery()
    gallery.replace(["resident-obama"], [backend.encode(rgb, box).tolist()], version="g-2")
    return gallery


# --- gridgate-edge scan and check-config ---------------------------------------------------


def _events(output: str) -> list[PassageEvent]:
    return [PassageEvent.model_validate(json.loads(line)) for line in output.splitlines()]


def test_scan_prints_the_passage_of_an_image(photos: dict[str, Path], tmp_path: Path) -> None:
    untrusted = Issuer().issue()  # scan without a config trusts no issuer
    image = tmp_path / "gate.png"
    cv2.imwrite(str(image), render(Scene(face=photos["obama2.jpg"], codes=[PLATE, untrusted])))

    result = CliRunner().invoke(cli, ["scan", str(image)])

    assert result.exit_code == 0, result.stderr
    (event,) = _events(result.stdout)
    (face,) = event.faces()  # through dlib; no gallery: no match tried
    assert face.local_match.decision is FaceDecision.NOT_CHECKED
    assert face.encoding is not None and len(face.encoding) == 128
    assert [p.address_code for p in event.door_plates()] == ["310101001001"]
    (code,) = event.health_codes()
    assert code.reason_codes == [ReasonCode.UNKNOWN_ISSUER]
    assert event.decision.action is GateAction.DENY
    assert "1 frames, 1 passages" in result.stderr


def test_scan_of_a_folder_with_a_config(fake_site: Site, tmp_path: Path) -> None:
    green = fake_site.issuer.issue(CodeColour.GREEN)
    people = [Scene(marker=RESIDENT, codes=[green]), Scene(marker=STRANGER)]
    folder = write_folder(tmp_path / "frames", people, stand=3, gap=12)
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "device_id": DEVICE,
                "site_id": SITE,
                "data_dir": str(fake_site.data_dir),
                "capture": {"source": str(folder)},
                "faces": {"backend": "fake", "detect_every": 1},
                "passage": {"window_s": 0.5},
            }
        ),
        encoding="utf-8",
    )

    result = CliRunner().invoke(cli, ["scan", str(folder), "--config", str(config)])

    assert result.exit_code == 0, result.stderr
    resident, stranger = _events(result.stdout)
    assert resident.decision.action is GateAction.OPEN
    assert {"known_face", "green_code"} <= set(resident.decision.reasons)
    assert stranger.decision.action is GateAction.HOLD
    assert stranger.decision.reasons == ["unknown_face"]
    assert (resident.device_id, resident.site_id) == (DEVICE, SITE)


def test_scan_of_a_missing_path_fails_with_exit_code_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "nothing-here.png"), "--no-faces"])
    assert result.exit_code == 2
    assert "nothing-here.png" in result.stderr
    assert result.stdout == ""


def test_check_config_accepts_a_good_file(tmp_path: Path) -> None:
    good = tmp_path / "edge.yaml"
    good.write_text("device_id: gate-01\nsite_id: site-a\ncapture: {source: 0}\n", "utf-8")
    result = CliRunner().invoke(cli, ["check-config", str(good)])
    assert result.exit_code == 0, result.stderr
    assert "ok: site-a/gate-01" in result.stdout


def test_check_config_names_every_bad_field_by_its_path(tmp_path: Path) -> None:
    broken = tmp_path / "edge.yaml"
    broken.write_text(
        "\n".join(
            [
                "device_id: gate-01",
                "site_id: site-a",
                "capture: {source: /dev/video0, fps: fast}",
                "faces: {detect_every: often, colour: blue}",
                "mqtt: {port: 99999}",
                "camera_model: xyz",
            ]
        ),
        encoding="utf-8",
    )

    result = CliRunner().invoke(cli, ["check-config", str(broken)])

    assert result.exit_code == 2
    problems = [line.strip() for line in result.stderr.splitlines() if line.startswith("  - ")]
    paths = {line.removeprefix("- ").split(":")[0] for line in problems}
    assert paths == {
        "capture.fps",
        "faces.detect_every",
        "faces.colour",
        "mqtt.port",
        "camera_model",
    }
    assert any("capture.fps" in p and "number" in p for p in problems)
    assert any("faces.colour" in p and "Extra inputs are not permitted" in p for p in problems)
    assert str(broken) in result.stderr


def test_check_config_refuses_face_crops_where_face_data_stays_on_the_device(
    tmp_path: Path,
) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(
        "device_id: gate-01\nsite_id: site-a\ncapture: {source: 0}\n"
        "faces: {send_encodings: false, send_crops: true}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["check-config", str(config)])
    assert result.exit_code == 2
    assert "faces" in result.stderr and "send_crops" in result.stderr


def test_check_config_reports_bad_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "edge.yaml"
    broken.write_text("device_id: gate-01\ncapture: {source: 0\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", str(broken)])
    assert result.exit_code == 2
    assert "not valid YAML" in result.stderr
    assert result.stdout == ""
