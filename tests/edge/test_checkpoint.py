"""Checkpoint vehicle mode: the desk with real signed passes and the real verifiers (three-code
policy, forged passes, ID against the pass holder), bad plates and empty vehicles refused, the
camera feeding the open vehicle without passage events of its own, the page's API, handheld
pairing (token, cookie, 401s, the pairing QR), and five vehicles closed with the uplink down
reaching a hub stub once each after it returns."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from edge.app import EdgeAgent, build_pipeline
from edge.capture import CaptureConfig
from edge.checkpoint.access import COOKIE
from edge.checkpoint.checkpoint import Checkpoint
from edge.checkpoint.codes import read_code
from edge.checkpoint.config import CheckpointConfig
from edge.checkpoint.desk import ConflictError, DeskError, DeskSite, UnknownError, VehicleDesk
from edge.checkpoint.identity import IdReader
from edge.checkpoint.server import checkpoint_app
from edge.checkpoint.verdict import DeskRules
from edge.cli import app as cli
from edge.config import CodesConfig, ConfigError, EdgeConfig, load_config
from edge.decoders.faces.config import FaceConfig
from edge.decoders.qr.zxing import ZxingDecoder
from edge.gallery import Gallery
from edge.kiosk.config import KioskConfig
from edge.passage.config import PassageConfig
from edge.publish.config import MqttConfig
from edge.simulate.gate import ScriptedGateSource
from edge.simulate.scenes import Scene
from edge.verify.policy import CodePolicy
from models import PassageEvent, decode, encode
from models.base import new_id, utc_now
from models.events import (
    CodeColour,
    Direction,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    HealthCodeObservation,
    VerificationStatus,
)
from models.identity import holder_ref
from models.passes import TripRisk
from tests.edge.helpers import wait_for
from tests.support.broker import MosquittoBroker
from tests.support.hub_stub import HubStub
from tests.support.passes import Issuer, trust_store, trusted_site

SITE, DEVICE = "k-east", "cp-01"
KEY = b"identity-key-for-checkpoint-tests-0000"
ID_A, ID_B, ID_C = "110101199003074514", "44030119850512123X", "310101200001010026"
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config" / "edge.example.yaml"


@dataclass
class Desk:
    """A desk on the real pipeline's verifiers, and what it submitted."""

    desk: VehicleDesk
    issuer: Issuer
    sent: list[PassageEvent]


def make_desk(
    *,
    policy: CodePolicy | None = None,
    keyed: bool = True,
    require_id: bool = False,
    **settings: object,
) -> Desk:
    issuer = Issuer(kid="health-office")
    codes = CodesConfig(policy=policy or CodePolicy())
    config = EdgeConfig(
        device_id=DEVICE,
        site_id=SITE,
        capture=CaptureConfig(source=0),
        faces=FaceConfig(enabled=False),
        codes=codes,
    )
    pipeline = build_pipeline(config, Gallery(), trust_store(issuer))
    checkpoint = CheckpointConfig.model_validate({"lanes": ["1", "2"], **settings})
    sent: list[PassageEvent] = []
    desk = VehicleDesk(
        DeskSite(DEVICE, SITE, "exit-3"),
        checkpoint,
        DeskRules(codes.policy, require_id=require_id),
        partial(read_code, pipeline),
        sent.append,
        ids=IdReader(KEY) if keyed else None,
    )
    return Desk(desk, issuer, sent)


def pass_of(
    issuer: Issuer, id_number: str, colour: CodeColour = CodeColour.GREEN, **kw: object
) -> str:
    """A signed pass whose holder is the person with ``id_number``."""
    return issuer.issue(colour, holder_ref=holder_ref(id_number, KEY), pass_id=id_number, **kw)  # type: ignore[arg-type]


def test_a_car_with_a_red_code_is_held_with_that_persons_reason() -> None:
    d = make_desk()
    car = d.desk.open("粤B·D12345", "exit", "2")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_A), id_number=ID_A, destination="新塘里96号")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_B, CodeColour.RED), destination="东村3号")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_C), destination="  新塘里  96号 ")
    view = d.desk.vehicle_view(car)
    assert [o["passed"] for o in view["occupants"]] == [True, False, True]
    assert view["occupants"][1]["reasons"] == ["red_code"]
    assert (view["passed"], view["reasons"]) == (False, ["red_code"])
    assert view["plate_kind"] == "new_energy"

    event = d.desk.close(car)
    assert d.sent == [event]
    assert decode(PassageEvent, encode(event)) == event
    assert (event.device_id, event.site_id, event.gate_id) == (DEVICE, SITE, "exit-3")
    assert event.direction is Direction.EXIT and event.observations == []
    assert event.decision == GateDecision(action=GateAction.HOLD, reasons=["red_code"])
    vehicle = event.vehicle
    assert vehicle is not None and not vehicle.passed
    assert (vehicle.plate, vehicle.lane) == ("粤BD12345", "2")
    first, red, third = vehicle.occupants
    assert [o.seat for o in vehicle.occupants] == [1, 2, 3]
    assert (first.passed, first.id_ref, first.id_masked) == (
        True,
        holder_ref(ID_A, KEY),
        "110***********4514",
    )
    assert (red.passed, red.reasons, red.id_ref) == (False, ["red_code"], None)
    assert red.health_code is not None and red.health_code.colour is CodeColour.RED
    assert third.destination == "新塘里 96号"
    assert ID_A not in encode(event).decode()  # the number itself never leaves
    with pytest.raises(UnknownError):
        d.desk.close(car)  # closed once
    assert d.desk.view()["closed"][0]["plate"] == "粤BD12345"


def test_a_car_where_everyone_passes_opens() -> None:
    d = make_desk()
    car = d.desk.open("京A12345")
    for person in (ID_A, ID_B):
        d.desk.add_occupant(car, pass_of(d.issuer, person), destination="新塘里96号")
    event = d.desk.close(car)
    assert event.decision == GateDecision(action=GateAction.OPEN)
    assert event.direction is Direction.ENTRY  # the configured default
    assert event.vehicle is not None and event.vehicle.lane == "1"


@pytest.mark.parametrize(
    ("typed", "why"),
    [("", "empty"), ("XX12345", "province"), ("粤BI2345", "I and O"), ("粤BX12345", "new-energy")],
)
def test_bad_plates_are_refused_with_the_plate_reason(typed: str, why: str) -> None:
    d = make_desk()
    with pytest.raises(DeskError, match=why) as caught:
        d.desk.open(typed)
    assert caught.value.key == "bad_plate"
    assert d.desk.view()["vehicles"] == []


def test_bad_lane_direction_and_repeated_or_too_many_vehicles_are_refused() -> None:
    d = make_desk(max_open_vehicles=2)
    with pytest.raises(DeskError, match="lane"):
        d.desk.open("粤B12345", lane="9")
    with pytest.raises(DeskError, match="entry or exit"):
        d.desk.open("粤B12345", direction="sideways")
    d.desk.open("粤B12345")
    with pytest.raises(ConflictError, match="already open"):
        d.desk.open("粤b·12345")
    d.desk.open("粤B12346")
    with pytest.raises(ConflictError) as full:
        d.desk.open("粤B12347")
    assert full.value.key == "too_many_open"


def test_a_forged_pass_does_not_pass_with_bad_signature() -> None:
    d = make_desk()
    forger = Issuer(kid="health-office")  # the same key id, another key
    car = d.desk.open("沪AB1C2D")
    d.desk.add_occupant(car, pass_of(forger, ID_A), destination="x")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_B, valid_from=0, valid_for_s=60), destination="x")
    occupants = d.desk.vehicle_view(car)["occupants"]
    assert [(o["passed"], o["reasons"]) for o in occupants] == [
        (False, ["bad_signature"]),
        (False, ["expired"]),
    ]
    event = d.desk.close(car)
    assert event.decision.reasons == ["bad_signature", "expired"]


def test_an_id_that_is_not_the_pass_holder_is_holder_mismatch() -> None:
    d = make_desk()
    car = d.desk.open("浙C12345D")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_A), id_number=ID_B, destination="x")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_C), id_number=ID_C.lower(), destination="x")
    occupants = d.desk.vehicle_view(car)["occupants"]
    assert [(o["passed"], o["reasons"]) for o in occupants] == [
        (False, ["holder_mismatch"]),
        (True, []),
    ]
    assert occupants[0]["id_masked"] == "440***********123X"


def test_a_mistyped_id_or_an_id_without_a_key_is_refused() -> None:
    d = make_desk()
    car = d.desk.open("粤B12345")
    for typo, why in ((ID_A[:-1] + "9", "check digit"), (ID_A[:17], "18 characters")):
        with pytest.raises(DeskError, match=why):
            d.desk.add_occupant(car, pass_of(d.issuer, ID_A), id_number=typo, destination="x")
    assert d.desk.vehicle_view(car)["occupants"] == []  # nothing half-added
    unkeyed = make_desk(keyed=False)
    car = unkeyed.desk.open("粤B12345")
    with pytest.raises(DeskError) as caught:
        unkeyed.desk.add_occupant(car, pass_of(unkeyed.issuer, ID_A), id_number=ID_A)
    assert caught.value.key == "id_not_enabled"


def test_the_site_policy_decides_test_age_and_trip_risk() -> None:
    d = make_desk(policy=CodePolicy(max_test_age_h=24))
    car = d.desk.open("粤B12345")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_A, test_age_h=48), destination="x")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_B, trip_risk=TripRisk.HIGH), destination="x")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_C, test_age_h=2), destination="x")
    occupants = d.desk.vehicle_view(car)["occupants"]
    assert [(o["passed"], o["reasons"]) for o in occupants] == [
        (False, ["test_too_old"]),
        (False, ["code_policy_failed"]),
        (True, []),
    ]


def test_missing_destination_or_id_hold_until_filled_in() -> None:
    d = make_desk(require_id=True)
    car = d.desk.open("粤B12345")
    number = d.desk.add_occupant(car, pass_of(d.issuer, ID_A))
    assert d.desk.vehicle_view(car)["occupants"][0]["reasons"] == [
        "id_missing",
        "destination_missing",
    ]
    d.desk.update_occupant(car, number, id_number=ID_A, destination="新塘里96号")
    assert d.desk.vehicle_view(car)["passed"] is True
    with pytest.raises(DeskError, match="at most 200"):
        d.desk.update_occupant(car, number, destination="长" * 201)
    with pytest.raises(UnknownError):
        d.desk.update_occupant(car, 99, destination="x")


def test_an_empty_vehicle_cannot_close_and_nothing_is_sent() -> None:
    d = make_desk()
    car = d.desk.open("粤B12345")
    with pytest.raises(ConflictError) as caught:
        d.desk.close(car)
    assert caught.value.key == "empty_vehicle"
    number = d.desk.add_occupant(car, pass_of(d.issuer, ID_A), destination="x")
    d.desk.remove_occupant(car, number)
    with pytest.raises(ConflictError):
        d.desk.close(car)
    assert d.sent == []
    assert d.desk.vehicle_view(car)["reasons"] == ["no_occupants"]
    d.desk.discard(car)
    assert d.desk.view()["vehicles"] == []


def test_text_that_is_no_health_code_and_a_pass_added_twice_are_refused() -> None:
    d = make_desk()
    car = d.desk.open("粤B12345")
    for text, why in (
        ("GGDP1:310101001001", "door plate"),
        ("hello", "unrecognised"),
        (" ", "empty"),
    ):
        with pytest.raises(DeskError, match=why):
            d.desk.add_occupant(car, text)
    token = pass_of(d.issuer, ID_A)
    d.desk.add_occupant(car, token + "\r\n", destination="x")  # a scanner's line ending
    with pytest.raises(ConflictError, match="seat 1"):
        d.desk.add_occupant(car, token)
    first = d.desk.add_occupant(car, pass_of(d.issuer, ID_B), destination="x")
    d.desk.add_occupant(car, pass_of(d.issuer, ID_C), destination="x")
    d.desk.remove_occupant(car, first)
    event = d.desk.close(car)
    assert event.vehicle is not None
    assert [o.seat for o in event.vehicle.occupants] == [1, 2]


def _camera_event(*codes: HealthCodeObservation) -> PassageEvent:
    return PassageEvent(
        event_id=new_id(),
        device_id=DEVICE,
        site_id=SITE,
        gate_id="exit-3",
        direction=Direction.ENTRY,
        occurred_at=utc_now(),
        observations=list(codes),
        decision=GateDecision(action=GateAction.OPEN),
    )


def _observation(holder: str | None) -> HealthCodeObservation:
    return HealthCodeObservation(
        format=HealthCodeFormat.GRIDGATE,
        status=VerificationStatus.VALID,
        colour=CodeColour.GREEN,
        holder_ref=holder,
        policy_passed=True,
        seen_at=utc_now(),
    )


def test_camera_codes_feed_the_vehicle_opened_last_once_each() -> None:
    d = make_desk()
    d.desk.observe(_camera_event(_observation("h1:a")))  # no vehicle open: dropped
    first = d.desk.open("粤B12345")
    last = d.desk.open("粤B12346")
    d.desk.observe(_camera_event(_observation("h1:a"), _observation("h1:b")))
    d.desk.observe(_camera_event(_observation("h1:a")))  # still held up to the camera
    assert d.desk.vehicle_view(first)["occupants"] == []
    occupants = d.desk.vehicle_view(last)["occupants"]
    assert [(o["source"], o["reasons"]) for o in occupants] == [
        ("camera", ["destination_missing"]),
        ("camera", ["destination_missing"]),
    ]
    assert d.desk.view()["camera_vehicle"] == last


# -- config -------------------------------------------------------------------------------------


def test_checkpoint_and_kiosk_modes_are_exclusive_and_settings_are_checked(tmp_path: Path) -> None:
    base = {"device_id": DEVICE, "site_id": SITE, "capture": {"source": 0}}
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump({**base, "kiosk": {}, "checkpoint": {}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="exclusive"):
        load_config(path)
    for bad, why in (
        ({"lanes": ["1", "1"]}, "unique"),
        ({"lanes": []}, "lanes"),
        ({"require_id": True}, "identity_key_file"),
        ({"port": 70000}, "checkpoint.port"),
        ({"lane": "1"}, "checkpoint.lane"),
        ({"host": "0.0.0.0"}, "host 0.0.0.0 is not a loopback address: set access_token_file"),
        ({"host": "192.168.8.20"}, "access_token_file"),
        ({"host": "checkpoint.lan"}, "access_token_file"),
    ):
        path.write_text(yaml.safe_dump({**base, "checkpoint": bad}), encoding="utf-8")
        with pytest.raises(ConfigError, match=why):
            load_config(path)
    assert KioskConfig() is not None  # a kiosk alone stays valid
    for loopback in ("127.0.0.1", "::1", "localhost"):
        assert CheckpointConfig(host=loopback).access_token_file is None
    assert CheckpointConfig(host="0.0.0.0", access_token_file=Path("t")).host == "0.0.0.0"


def test_the_example_config_documents_a_valid_checkpoint_section() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# checkpoint:") :]
    data = yaml.safe_load(re.sub(r"^# ?", "", block, flags=re.MULTILINE))
    settings = CheckpointConfig.model_validate(data["checkpoint"])
    assert settings.lanes == ["1", "2"] and settings.identity_key_file is not None


# -- the agent: camera, page API, uplink down ----------------------------------------------------


def _site(tmp_path: Path) -> tuple[Path, Issuer, Path]:
    """A data dir with a hub-signed trust list, the issuer and the hub key; an identity key."""
    site = trusted_site(tmp_path / "cp-data")
    (tmp_path / "identity.key").write_text(KEY.decode() + "\n", encoding="utf-8")
    return site.data_dir, site.issuer, site.hub_key_pem


def checkpoint_config(tmp_path: Path, broker: MosquittoBroker | None) -> tuple[EdgeConfig, Issuer]:
    """A checkpoint agent: real zxing and verifiers, its page on port 0."""
    data_dir, issuer, hub_pem = _site(tmp_path)
    config = EdgeConfig(
        device_id=DEVICE,
        site_id=SITE,
        data_dir=data_dir,
        capture=CaptureConfig(source=0),
        faces=FaceConfig(enabled=False),  # a checkpoint camera reads codes only
        passage=PassageConfig(gate_id="exit-3", window_s=0.5),
        codes=CodesConfig(hub_public_key=hub_pem),
        mqtt=MqttConfig(
            host=broker.host if broker else "127.0.0.1",
            port=broker.port if broker else 9,
            ack_timeout_s=2,
            heartbeat_s=1,
            keepalive_s=5,
            reconnect_min_s=1,
            reconnect_max_s=2,
        ),
        checkpoint=CheckpointConfig(port=0, identity_key_file=tmp_path / "identity.key"),
    )
    return config, issuer


def test_the_camera_feeds_the_open_vehicle_and_sends_no_passage_of_its_own(tmp_path: Path) -> None:
    config, issuer = checkpoint_config(tmp_path, None)
    token = pass_of(issuer, ID_A)
    camera = ScriptedGateSource([Scene(codes=[token])], fps=20, frames_per_scene=6, empty_frames=30)
    agent = EdgeAgent(config, source=camera)
    assert agent.checkpoint is not None
    desk = agent.checkpoint.desk
    car = desk.open("粤B12345")
    agent.start()
    try:
        wait_for(lambda: len(desk.vehicle_view(car)["occupants"]) == 1, 20, "the camera's code")
        wait_for(lambda: agent.pipeline.stats.events >= 2, 20, "the scene to play twice")
        assert agent.outbox.depth() == 0  # camera passages feed the desk only
        view = desk.vehicle_view(car)["occupants"]
        assert len(view) == 1 and view[0]["source"] == "camera"
        desk.update_occupant(car, view[0]["number"], id_number=ID_A, destination="新塘里96号")
        event = desk.close(car)
        assert event.decision.action is GateAction.OPEN
        assert agent.outbox.depth() == 1
    finally:
        agent.stop()


def test_the_page_api_refuses_bad_input_and_sends_strict_headers(tmp_path: Path) -> None:
    config, issuer = checkpoint_config(tmp_path, None)
    sent: list[PassageEvent] = []
    pipeline = build_pipeline(config, Gallery(), trust_store(issuer))
    assert config.checkpoint is not None
    checkpoint = Checkpoint(config, config.checkpoint, pipeline, sent.append)
    with TestClient(checkpoint_app(checkpoint)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "checkpoint.js" in page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert client.get("/static/checkpoint.js").status_code == 200
        assert client.get("/static/..%2Fdesk.py").status_code == 404
        assert client.get("/api/plate", params={"text": "粤BD12345"}).json() == {
            "valid": True,
            "number": "粤BD12345",
            "kind": "new_energy",
        }
        bad = client.get("/api/plate", params={"text": "粤B1234"}).json()
        assert bad["valid"] is False and "7" in bad["message"]
        refused = client.post("/api/vehicles", json={"plate": "XX1"})
        assert refused.status_code == 422 and refused.json()["error"] == "bad_plate"
        assert client.post("/api/vehicles", json={"plate": "粤B12345", "x": 1}).status_code == 422
        car = client.post("/api/vehicles", json={"plate": "粤B12345", "lane": "1"}).json()["id"]
        empty = client.post(f"/api/vehicles/{car}/close")
        assert empty.status_code == 409 and empty.json()["error"] == "empty_vehicle"
        added = client.post(
            f"/api/vehicles/{car}/occupants",
            json={"code": pass_of(issuer, ID_A), "id_number": ID_A, "destination": "新塘里"},
        )
        assert added.status_code == 201 and added.json()["passed"] is True
        assert (
            client.post(f"/api/vehicles/{car}/occupants", json={"code": "x" * 70000}).status_code
            == 422
        )
        assert client.post("/api/vehicles/nope/close").status_code == 404
        state = client.get("/api/state").json()
        assert state["settings"]["ids"] is True and state["uplink"]["connected"] is False
        closed = client.post(f"/api/vehicles/{car}/close").json()
        assert (closed["plate"], closed["passed"]) == ("粤B12345", True)
    assert [str(e.event_id) for e in sent] == [closed["event_id"]]


# -- handhelds: pairing token and cookie --------------------------------------------------------

TOKEN = "pairing-token-for-checkpoint-tests-0123456789"


def paired_checkpoint(tmp_path: Path, token: str = TOKEN, **settings: object) -> Checkpoint:
    """A checkpoint whose page requires ``token`` (written to its token file)."""
    config, issuer = checkpoint_config(tmp_path, None)
    (tmp_path / "page.token").write_text(token + "\n", encoding="utf-8")
    assert config.checkpoint is not None
    page = config.checkpoint.model_dump() | {"access_token_file": tmp_path / "page.token"}
    return Checkpoint(
        config,
        CheckpointConfig.model_validate(page | settings),
        build_pipeline(config, Gallery(), trust_store(issuer)),
        lambda event: None,
    )


def test_without_the_pairing_cookie_every_request_is_401(tmp_path: Path) -> None:
    checkpoint = paired_checkpoint(tmp_path, host="0.0.0.0")
    with TestClient(checkpoint_app(checkpoint)) as client:
        for method, path in (
            ("GET", "/api/state"),
            ("GET", "/api/plate?text=粤B12345"),
            ("POST", "/api/vehicles"),
            ("POST", "/api/vehicles/x/close"),
        ):
            refused = client.request(method, path, json={"plate": "粤B12345"})
            assert refused.status_code == 401, path
            assert refused.json()["error"] == "unpaired"
            assert refused.headers["x-content-type-options"] == "nosniff"
        for path in ("/", "/static/checkpoint.js", "/?token="):
            assert client.get(path).status_code == 401, path
        assert "配对" in client.get("/").text
        client.cookies.set(COOKIE, TOKEN[:-1] + "X")  # a wrong cookie
        assert client.get("/api/state").status_code == 401
        wrong = client.get("/", params={"token": TOKEN + "0"})  # a wrong pairing link
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert checkpoint.desk.view()["vehicles"] == []  # nothing was opened


def test_the_pairing_link_sets_a_strict_httponly_cookie_and_the_api_works(tmp_path: Path) -> None:
    checkpoint = paired_checkpoint(tmp_path)
    with TestClient(checkpoint_app(checkpoint)) as client:
        paired = client.get("/", params={"token": TOKEN})
        assert paired.status_code == 200 and "checkpoint.js" in paired.text
        cookie = paired.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}={TOKEN};")
        assert {"HttpOnly", "SameSite=strict", "Path=/"} <= {p.strip() for p in cookie.split(";")}
        assert client.get("/static/checkpoint.js").status_code == 200
        assert client.get("/api/state").json()["vehicles"] == []
        opened = client.post("/api/vehicles", json={"plate": "粤B12345"})
        assert opened.status_code == 201
        assert client.get("/").status_code == 200  # the cookie alone from now on
        client.cookies.clear()
        assert client.post(f"/api/vehicles/{opened.json()['id']}/close").status_code == 401
    assert [v["plate"] for v in checkpoint.desk.view()["vehicles"]] == ["粤B12345"]


def test_a_token_too_short_or_not_url_safe_is_refused(tmp_path: Path) -> None:
    for n, bad in enumerate(("short", "with spaces and more than 22 chars", "ä" * 30)):
        (tmp_path / str(n)).mkdir()
        with pytest.raises(ValueError, match="at least 22 URL-safe characters"):
            paired_checkpoint(tmp_path / str(n), bad)


def test_pairing_qr_prints_the_link_and_writes_a_qr_of_it(tmp_path: Path) -> None:
    config, _ = checkpoint_config(tmp_path, None)
    (tmp_path / "page.token").write_text(TOKEN, encoding="utf-8")
    assert config.checkpoint is not None
    data = json.loads(config.model_dump_json())
    token_file = str(tmp_path / "page.token")
    data["checkpoint"] |= {"host": "0.0.0.0", "port": 8091, "access_token_file": token_file}
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")

    def pairing(*args: str) -> Result:
        return CliRunner().invoke(cli, ["checkpoint", "pairing-qr", str(path), *args])

    wildcard = pairing()
    assert wildcard.exit_code == 2 and "--address" in wildcard.stderr
    png = tmp_path / "pair.png"
    result = pairing("--address", "192.168.8.20", "--png", str(png))
    assert result.exit_code == 0, result.stderr
    url = f"http://192.168.8.20:8091/?token={TOKEN}"
    assert result.stdout == url + "\n"
    assert png.stat().st_mode & 0o777 == 0o600
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    (symbol,) = ZxingDecoder().decode(image)
    assert symbol.text == url

    data["checkpoint"] |= {"host": "127.0.0.1", "access_token_file": None}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    loopback = pairing()
    assert loopback.exit_code == 2 and "no pairing" in loopback.stderr


def test_five_vehicles_closed_with_the_uplink_down_reach_the_hub_once_each(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    stub = HubStub(broker.host, broker.port).start()
    config, issuer = checkpoint_config(tmp_path, broker)
    camera = ScriptedGateSource([Scene()], fps=10, frames_per_scene=1, empty_frames=10)
    agent = EdgeAgent(config, source=camera)
    assert agent.checkpoint is not None
    agent.start()
    try:
        assert agent.link.wait_ready(10)
        broker.stop()
        wait_for(lambda: not agent.link.stats().connected, 10, "the link to notice the stop")
        desk, ids = agent.checkpoint.desk, []
        for n, person in enumerate((ID_A, ID_B, ID_C, ID_A, ID_B)):
            car = desk.open(f"粤B1234{n}")
            desk.add_occupant(car, pass_of(issuer, person), destination="新塘里96号")
            ids.append(desk.close(car).event_id)
        assert agent.checkpoint.uplink() == {"connected": False, "queued": 5}
        broker.start()
        assert stub.wait_for(5, 30), f"only {len(stub.first)} arrived"
        wait_for(lambda: agent.outbox.depth() == 0, 30, "the hub's acks")
        assert stub.first == ids
        assert agent.checkpoint.uplink() == {"connected": True, "queued": 0}
    finally:
        agent.stop()
        stub.stop()
