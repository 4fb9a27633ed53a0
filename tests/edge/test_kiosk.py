"""The kiosk session: fed by the real pipeline (zxing, pass verification, faces), it collects a
door plate, a verified pass with its masked name and one face; agree builds the request;
bad passes, several faces and incomplete sessions are refused; a timeout forgets everything."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.app import build_pipeline
from edge.capture import CaptureConfig
from edge.config import CodesConfig, EdgeConfig
from edge.decoders.faces.config import FaceConfig
from edge.decoders.faces.fake import fake_encoding
from edge.gallery import Gallery
from edge.kiosk.config import KioskConfig
from edge.kiosk.names import NameTap
from edge.kiosk.outbox import RegistrationOutbox
from edge.kiosk.session import IncompleteSessionError, KioskSession
from edge.passage.config import PassageConfig
from edge.pipeline import FramePipeline
from edge.publish.config import MqttConfig
from edge.simulate.scenes import Scene, background, render
from models.base import new_id, utc_now
from models.events import (
    CodeColour,
    Direction,
    FaceObservation,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    PassageEvent,
)
from tests.support.passes import Issuer, TrustedSite, trust_store, trusted_site

SITE, KIOSK = "site-a", "kiosk-01"
PERSON, OTHER = 12, 13
"""Fake-backend person ids."""
HOLDER = "h1:newcomer0000000000000000000000"


KioskSite = TrustedSite


def kiosk_site(tmp_path: Path) -> KioskSite:
    """Trust list (signed by a hub key) naming one health-office issuer."""
    return trusted_site(tmp_path / "kiosk-data")


def kiosk_config(
    site: KioskSite, *, host: str = "127.0.0.1", port: int = 1883, timeout_s: float = 60
) -> EdgeConfig:
    """A kiosk agent's config: fake faces, a 0.5 s passage window, the kiosk screen on port 0."""
    return EdgeConfig(
        device_id=KIOSK,
        site_id=SITE,
        data_dir=site.data_dir,
        capture=CaptureConfig(source=0),
        faces=FaceConfig(backend="fake", detect_every=1),
        passage=PassageConfig(gate_id="kiosk", window_s=0.5),
        codes=CodesConfig(hub_public_key=site.hub_key_pem),
        mqtt=MqttConfig(
            host=host,
            port=port,
            ack_timeout_s=2,
            heartbeat_s=1,
            keepalive_s=5,
            reconnect_min_s=1,
            reconnect_max_s=2,
        ),
        kiosk=KioskConfig(port=0, session_timeout_s=timeout_s, min_face_quality=0.0),
    )


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _pipeline(site: KioskSite, session: KioskSession) -> FramePipeline:
    """The real pipeline of a kiosk (zxing, GGHC1 verifier, fake faces) with the name tap."""
    config = kiosk_config(site)
    pipeline = build_pipeline(config, Gallery(), trust_store(site.issuer))
    inner = pipeline.verifiers[HealthCodeFormat.GRIDGATE]
    pipeline.verifiers[HealthCodeFormat.GRIDGATE] = NameTap(inner, session.note_name)
    return pipeline


def _show(pipeline: FramePipeline, session: KioskSession, scene: Scene) -> None:
    """Play ``scene`` for a few frames and an empty gate until the passage closes."""
    t = 0.0
    for step in range(4):
        t += 0.05
        event = pipeline.process(render(scene, jitter=step), t, utc_now())
        assert event is None
    empty = background(0)
    while True:
        t += 0.1
        event = pipeline.process(empty, t, utc_now())
        if event is not None:
            session.observe(event)
            return


def test_real_frames_fill_the_session_and_agree_builds_the_request(tmp_path: Path) -> None:
    site = kiosk_site(tmp_path)
    session = KioskSession(60)
    pipeline = _pipeline(site, session)
    token = site.issuer.issue(CodeColour.GREEN, holder_ref=HOLDER)
    _show(pipeline, session, Scene(marker=PERSON, codes=["GGDP1:310101001001", token]))
    view = session.view()
    assert view == {
        "door_plate": "310101001001",
        "pass": True,
        "name_masked": "张*",
        "face": True,
        "problem": None,
        "missing": [],
    }
    now = utc_now()
    request = session.agree(device_id=KIOSK, site_id=SITE, consent_version="v1", now=now)
    assert (request.address_code, request.health_code.holder_ref) == ("310101001001", HOLDER)
    assert request.name_masked == "张*" and request.health_code.colour is CodeColour.GREEN
    assert np.allclose(request.face_encoding, fake_encoding(PERSON), atol=1e-6)  # wire precision
    assert (request.consent.text_version, request.consent.accepted_at) == ("v1", now)
    assert session.view()["missing"] == ["door_plate", "pass", "face"]  # forgotten


def test_steps_may_come_in_separate_passages(tmp_path: Path) -> None:
    site = kiosk_site(tmp_path)
    session = KioskSession(60)
    pipeline = _pipeline(site, session)
    _show(pipeline, session, Scene(codes=["GGDP1:310101001001"]))
    assert session.view()["missing"] == ["pass", "face"]
    _show(pipeline, session, Scene(codes=[site.issuer.issue(holder_ref=HOLDER)]))
    _show(pipeline, session, Scene(marker=PERSON))
    assert session.view()["missing"] == []


def test_a_forged_or_expired_pass_is_not_taken(tmp_path: Path) -> None:
    site = kiosk_site(tmp_path)
    session = KioskSession(60)
    pipeline = _pipeline(site, session)
    forger = Issuer(kid="health-office")  # same key id, another key: the signature fails
    _show(pipeline, session, Scene(marker=PERSON, codes=["GGDP1:310101001001"]))
    _show(pipeline, session, Scene(codes=[forger.issue(holder_ref=HOLDER)]))
    view = session.view()
    assert (view["pass"], view["name_masked"], view["problem"]) == (False, "", "pass_not_valid")
    with pytest.raises(IncompleteSessionError) as caught:
        session.agree(device_id=KIOSK, site_id=SITE, consent_version="v1", now=utc_now())
    assert caught.value.missing == ["pass"]
    expired = site.issuer.issue(holder_ref=HOLDER, valid_from=0, valid_for_s=60)
    _show(pipeline, session, Scene(codes=[expired]))
    assert session.view()["pass"] is False


def _faces(*people: int) -> PassageEvent:
    now = utc_now()
    return PassageEvent(
        event_id=new_id(),
        device_id=KIOSK,
        site_id=SITE,
        gate_id="kiosk",
        direction=Direction.ENTRY,
        occurred_at=now,
        observations=[
            FaceObservation(
                track_id=i, encoding=fake_encoding(p).tolist(), quality=0.9, seen_at=now
            )
            for i, p in enumerate(people)
        ],
        decision=GateDecision(action=GateAction.OBSERVE),
    )


def test_two_faces_at_once_are_not_taken() -> None:
    session = KioskSession(60)
    session.observe(_faces(PERSON))
    assert session.view()["face"] is True
    session.observe(_faces(PERSON, OTHER))
    assert (session.view()["face"], session.view()["problem"]) == (False, "several_faces")


def test_a_low_quality_face_is_not_taken() -> None:
    session = KioskSession(60, min_face_quality=0.95)
    session.observe(_faces(PERSON))
    assert session.view()["face"] is False


def test_inactivity_forgets_everything_and_cancel_too() -> None:
    clock = Clock()
    session = KioskSession(30, clock=clock)
    session.observe(_faces(PERSON))
    clock.now += 29
    assert session.view()["face"] is True
    session.observe(_faces(PERSON))  # something new: the timeout starts again
    clock.now += 29
    assert session.view()["face"] is True
    clock.now += 1
    assert session.view()["face"] is False
    with pytest.raises(IncompleteSessionError):
        session.agree(device_id=KIOSK, site_id=SITE, consent_version="v1", now=utc_now())
    session.observe(_faces(PERSON))
    session.cancel()
    assert session.view()["missing"] == ["door_plate", "pass", "face"]


def test_the_outbox_keeps_requests_across_a_restart_until_removed(tmp_path: Path) -> None:
    from tests.test_registrations_contract import request

    path = tmp_path / "registrations.db"
    first, second = request(), request()
    outbox = RegistrationOutbox(path)
    assert outbox.put(first) and outbox.put(second) and not outbox.put(first)
    outbox.mark_sent([first.request_id], 1000.0)
    outbox.close()
    reopened = RegistrationOutbox(path)
    assert [r.request_id for r in reopened.due(1001.0, 5.0)] == [second.request_id]
    assert [r.request_id for r in reopened.due(1006.0, 5.0)] == [
        first.request_id,
        second.request_id,
    ]
    assert reopened.remove([first.request_id]) == 1 and reopened.depth() == 1
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    reopened.close()


def test_the_outbox_bound_drops_the_oldest(tmp_path: Path) -> None:
    from tests.test_registrations_contract import request

    outbox = RegistrationOutbox(tmp_path / "r.db", max_requests=2)
    sent = [request() for _ in range(3)]
    for item in sent:
        outbox.put(item)
    assert [r.request_id for r in outbox.due(0, 0)] == [s.request_id for s in sent[1:]]
    outbox.close()


def test_the_session_view_never_carries_the_encoding() -> None:
    session = KioskSession(60)
    session.observe(_faces(PERSON))
    assert "encoding" not in str(session.view())
