"""The online platform verifier against a real local fake platform: colours, the site's
policy, the answer cache, every outage under every site policy, config errors, and a real
QR frame through the edge pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from edge.app import build_pipeline
from edge.capture import CaptureConfig
from edge.config import CodesConfig, ConfigError, EdgeConfig, QrConfig, load_config
from edge.decoders.faces.config import FaceConfig
from edge.decoders.payloads import PayloadConfig
from edge.decoders.qr import create
from edge.gallery import Gallery
from edge.passage.config import GatePolicy
from edge.passage.decide import decide
from edge.verify.online import (
    BadResponseError,
    OnlineVerifier,
    OnlineVerifierConfig,
    PlatformFacts,
    ResponseMapping,
    UnreachablePolicy,
    read_answer,
)
from edge.verify.policy import CodePolicy
from edge.verify.trust import TrustStore
from models.base import utc_now
from models.events import (
    CodeColour,
    GateAction,
    HealthCodeFormat,
    HealthCodeObservation,
    ReasonCode,
    VerificationStatus,
)
from models.passes import TestResult
from tests.support.fake_platform import (
    GREEN,
    ODD_COLOUR,
    PATTERN,
    RED,
    STALE_TEST,
    UNKNOWN,
    YELLOW,
    FakePlatform,
    Mode,
)
from tests.support.frames import qr_frame

POLICY = CodePolicy(require_green=True, max_test_age_h=48)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


MakeVerifier = Callable[..., OnlineVerifier]


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    with FakePlatform() as server:
        yield server


@pytest.fixture
def make_verifier(platform: FakePlatform) -> Iterator[MakeVerifier]:
    """Verifiers of the fake platform (closed after the test); keyword args change config."""
    made: list[OnlineVerifier] = []

    def make(
        policy: CodePolicy = POLICY, clock: Callable[[], float] | None = None, **changes: Any
    ) -> OnlineVerifier:
        config = platform.verifier_config(**changes)
        made.append(OnlineVerifier(config, policy, clock=clock or Clock()))
        return made[-1]

    yield make
    for verifier in made:
        verifier.close()


def _action(observation: HealthCodeObservation) -> tuple[GateAction, list[str]]:
    decision = decide([observation], GatePolicy())
    return decision.action, decision.reasons


# --- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "colour", "passed", "action", "reason", "tested_h"),
    [
        (GREEN, CodeColour.GREEN, True, GateAction.OPEN, "green_code", 20),
        (YELLOW, CodeColour.YELLOW, False, GateAction.HOLD, "yellow_code", 30),
        (RED, CodeColour.RED, False, GateAction.DENY, "red_code", None),
    ],
)
def test_each_colour_is_mapped_and_decides_the_gate(
    make_verifier: MakeVerifier,
    code: str,
    colour: CodeColour,
    passed: bool,
    action: GateAction,
    reason: str,
    tested_h: float | None,
) -> None:
    seen_at = utc_now()
    observation = make_verifier().verify(code, seen_at)

    assert observation.format is HealthCodeFormat.ONLINE
    assert (observation.status, observation.colour) == (VerificationStatus.VALID, colour)
    assert observation.reason_codes == []
    assert observation.issuer == "fake-platform"
    assert observation.holder_ref is None  # the platform gives no keyed holder reference
    assert observation.policy_passed is passed
    if tested_h is None:
        assert observation.last_test_at is None
    else:  # written as naive UTC+8 text (green) and epoch milliseconds (yellow)
        assert observation.last_test_at is not None
        expected = seen_at - timedelta(hours=tested_h)
        assert abs(observation.last_test_at - expected) < timedelta(minutes=1)
    assert _action(observation) == (action, [reason])


def test_the_request_carries_the_code_the_key_and_fixed_fields(
    platform: FakePlatform, make_verifier: MakeVerifier
) -> None:
    facts = make_verifier().query(GREEN)
    assert platform.bodies == [{"appId": "gate-test", "qrCode": GREEN}]
    assert isinstance(facts, PlatformFacts)
    assert facts.name_masked == "张**"  # masked as soon as it is read
    assert (facts.doses, facts.test_result) == (3, TestResult.NEGATIVE)

    wrong_key = make_verifier(app_key="not-the-key").verify(GREEN, utc_now())
    assert wrong_key.status is VerificationStatus.UNVERIFIED  # 401 with an unmapped code
    assert wrong_key.reason_codes == [ReasonCode.PLATFORM_UNREACHABLE]


def test_the_site_policy_is_applied_to_the_platform_facts(make_verifier: MakeVerifier) -> None:
    now = utc_now()
    stale = make_verifier().verify(STALE_TEST, now)  # green, negative test 100 h ago
    assert (stale.status, stale.colour, stale.policy_passed) == (
        VerificationStatus.VALID,
        CodeColour.GREEN,
        False,
    )
    assert _action(stale) == (GateAction.HOLD, ["code_policy_failed"])

    assert make_verifier(CodePolicy(max_test_age_h=120)).verify(STALE_TEST, now).policy_passed
    assert not make_verifier(CodePolicy(min_doses=4)).verify(GREEN, now).policy_passed
    lenient = make_verifier(CodePolicy(require_green=False)).verify(YELLOW, now)
    assert lenient.policy_passed is True
    assert _action(lenient) == (GateAction.HOLD, ["yellow_code"])  # the gate still holds yellow


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (UNKNOWN, ReasonCode.UNKNOWN_ISSUER),  # the platform does not know the code
        ("https://elsewhere.example/q/G7K2M9Q4X1", ReasonCode.MALFORMED),  # not its format
    ],
)
def test_codes_the_platform_refuses_are_invalid(
    make_verifier: MakeVerifier, code: str, reason: ReasonCode
) -> None:
    observation = make_verifier().verify(code, utc_now())
    assert observation.status is VerificationStatus.INVALID
    assert observation.reason_codes == [reason]
    assert observation.colour is None and observation.policy_passed is False
    assert _action(observation) == (GateAction.DENY, ["invalid_pass"])


def test_an_answer_past_its_validity_is_expired(
    platform: FakePlatform, make_verifier: MakeVerifier
) -> None:
    # the fake platform sends no validity end; read the test time as one to make it past
    mapping = platform.verifier_config().response
    verifier = make_verifier(
        response=mapping.model_copy(update={"valid_until": "data.nucleicTime"})
    )
    observation = verifier.verify(GREEN, utc_now())
    assert observation.status is VerificationStatus.INVALID
    assert observation.reason_codes == [ReasonCode.EXPIRED]
    assert observation.policy_passed is False


# --- the answer cache ------------------------------------------------------------------------


def test_repeated_scans_hit_the_cache_until_it_expires(
    platform: FakePlatform, make_verifier: MakeVerifier
) -> None:
    clock = Clock()
    verifier = make_verifier(clock=clock, cache_ttl_s=60)
    first = verifier.verify(GREEN, utc_now())
    second = verifier.verify(GREEN, utc_now())
    assert platform.requests == 1
    assert (first.colour, second.colour) == (CodeColour.GREEN, CodeColour.GREEN)

    clock.now += 59
    verifier.verify(GREEN, utc_now())
    assert platform.requests == 1
    clock.now += 2
    verifier.verify(GREEN, utc_now())
    assert platform.requests == 2


def test_the_cache_is_bounded_and_can_be_disabled(
    platform: FakePlatform, make_verifier: MakeVerifier
) -> None:
    bounded = make_verifier(cache_max_entries=2)
    for code in (GREEN, YELLOW, RED, GREEN):  # GREEN was dropped for RED
        bounded.verify(code, utc_now())
    assert platform.requests == 4
    bounded.verify(RED, utc_now())
    assert platform.requests == 4

    uncached = make_verifier(cache_ttl_s=0)
    uncached.verify(GREEN, utc_now())
    uncached.verify(GREEN, utc_now())
    assert platform.requests == 6


def test_the_test_age_is_judged_at_each_scan_not_when_cached(
    make_verifier: MakeVerifier,
) -> None:
    verifier = make_verifier(CodePolicy(max_test_age_h=21), cache_ttl_s=3600)
    now = utc_now()
    assert verifier.verify(GREEN, now).policy_passed is True  # tested 20 h ago
    assert verifier.verify(GREEN, now + timedelta(hours=2)).policy_passed is False


# --- outages under each site policy ----------------------------------------------------------

OUTAGES = ["timeout", "refused", "http_500", "garbage", "odd_colour", "deep", "huge", "drip"]
VERDICTS = {
    UnreachablePolicy.HOLD: (None, GateAction.HOLD),
    UnreachablePolicy.DENY: (False, GateAction.DENY),
    UnreachablePolicy.ACCEPT_WITH_ALERT: (True, GateAction.OPEN),
}


def _break(platform: FakePlatform, outage: str) -> str:
    """Make the platform fail as ``outage`` says; the code to scan."""
    if outage == "timeout":
        platform.mode = Mode.SLOW
    elif outage == "refused":
        platform.stop()
    elif outage == "http_500":
        platform.mode = Mode.ERROR
    elif outage == "garbage":
        platform.mode = Mode.GARBAGE
    elif outage in ("deep", "huge"):
        platform.mode = Mode(outage)
    elif outage == "drip":  # every read well inside the timeout, the whole answer not
        platform.mode, platform.drip_s = Mode.DRIP, 0.05
    return ODD_COLOUR if outage == "odd_colour" else GREEN


@pytest.mark.parametrize("site_policy", list(UnreachablePolicy))
@pytest.mark.parametrize("outage", OUTAGES)
def test_every_outage_follows_the_site_policy(
    platform: FakePlatform,
    make_verifier: MakeVerifier,
    caplog: pytest.LogCaptureFixture,
    outage: str,
    site_policy: UnreachablePolicy,
) -> None:
    verifier = make_verifier(on_unreachable=site_policy, timeout_s=0.2)
    code = _break(platform, outage)

    observation = verifier.verify(code, utc_now())

    passed, action = VERDICTS[site_policy]
    assert observation.format is HealthCodeFormat.ONLINE
    assert observation.status is VerificationStatus.UNVERIFIED
    assert observation.reason_codes == [ReasonCode.PLATFORM_UNREACHABLE]
    assert observation.colour is None  # nothing is made up about the holder
    assert observation.policy_passed is passed
    assert _action(observation) == (action, ["platform_unreachable"])
    assert "gave no answer" in caplog.text


@pytest.mark.parametrize("site_policy", list(UnreachablePolicy))
def test_a_dripping_answer_is_cut_off_at_the_timeout(
    platform: FakePlatform, make_verifier: MakeVerifier, site_policy: UnreachablePolicy
) -> None:
    verifier = make_verifier(on_unreachable=site_policy, timeout_s=0.5)
    platform.mode, platform.drip_s = Mode.DRIP, 0.1  # 25+ chunks: the whole answer takes 2.5 s
    started = time.monotonic()

    observation = verifier.verify(GREEN, utc_now())

    assert time.monotonic() - started < 3 * 0.5  # a bound, not a timing: the drip takes 2.5 s
    assert observation.reason_codes == [ReasonCode.PLATFORM_UNREACHABLE]
    assert observation.policy_passed is VERDICTS[site_policy][0]
    platform.mode = Mode.NORMAL
    assert verifier.verify(GREEN, utc_now()).status is VerificationStatus.UNVERIFIED  # cached


def test_an_outage_is_retried_after_the_retry_interval(
    platform: FakePlatform, make_verifier: MakeVerifier
) -> None:
    clock = Clock()
    verifier = make_verifier(clock=clock, retry_unreachable_s=5)
    platform.mode = Mode.ERROR
    for _ in range(3):  # one code in view for many frames: asked once
        assert verifier.verify(GREEN, utc_now()).status is VerificationStatus.UNVERIFIED
    assert platform.requests == 1

    platform.mode = Mode.NORMAL
    clock.now += 5.5
    assert verifier.verify(GREEN, utc_now()).status is VerificationStatus.VALID
    assert platform.requests == 2


def test_accepting_on_outage_does_not_open_a_gate_that_never_opens_on_codes(
    platform: FakePlatform, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(on_unreachable=UnreachablePolicy.ACCEPT_WITH_ALERT)
    platform.stop()
    observation = verifier.verify(GREEN, utc_now())
    decision = decide([observation], GatePolicy(open_on_green_code=False))
    assert decision.action is GateAction.HOLD


# --- reading answers -------------------------------------------------------------------------

MAPPING = ResponseMapping(
    error_reasons={"1002": ReasonCode.UNKNOWN_ISSUER},
    test_time="data.tested",
    doses="data.doses",
)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1, 2], "not a JSON object"),
        ({"data": {"colour": "0"}}, "no result code"),
        ({"code": 5000, "msg": "busy"}, "neither success nor a refusal"),
        ({"code": 0, "data": {}}, "no colour"),
        ({"code": 0, "data": "green"}, "no colour"),
        ({"code": 0, "data": {"colour": "purple"}}, "unknown value 'purple'"),
        ({"code": 0, "data": {"colour": {"v": 0}}}, "not a single value"),
        ({"code": 0, "data": {"colour": 0, "doses": "many"}}, "unreadable doses"),
        ({"code": 0, "data": {"colour": 0, "doses": 99}}, "out of range"),
        ({"code": 0, "data": {"colour": 0, "doses": True}}, "unreadable doses"),
        ({"code": 0, "data": {"colour": 0, "tested": "yesterday"}}, "unreadable time"),
        ({"code": 0, "data": {"colour": 0, "tested": -5}}, "unreadable time"),
        ({"code": 0, "data": {"colour": 0, "tested": 10**22}}, "unreadable time"),
        ({"code": 0, "data": {"colour": 0, "tested": "0001-01-01 00:00:00"}}, "unreadable time"),
        ({"code": 0, "data": {"colour": 0, "tested": "9" * 5000}}, "unreadable time"),
        ({"code": 0, "data": {"colour": 0, "tested": [2026]}}, "unreadable time"),
    ],
)
def test_answers_that_do_not_fit_the_mapping_are_refused(document: object, message: str) -> None:
    with pytest.raises(BadResponseError, match=message):
        read_answer(document, MAPPING)


@pytest.mark.parametrize(
    "tested",
    [
        1_780_000_000,
        "1780000000",
        1_780_000_000_000,
        "2026-05-28T20:26:40Z",
        "2026-05-29 04:26:40",  # naive: China Standard Time
        "2026-05-29T04:26:40+08:00",
    ],
)
def test_test_times_in_every_common_form(tested: object) -> None:
    facts = read_answer({"code": "0", "data": {"colour": "GREEN", "tested": tested}}, MAPPING)
    assert isinstance(facts, PlatformFacts)
    assert facts.colour is CodeColour.GREEN  # values are case-insensitive
    assert facts.test_at == datetime.fromtimestamp(1_780_000_000, UTC)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["0", "1", "2", "green", "2026-05-29 04:26:40", "阴性", "1002"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
FIELDS = st.sampled_from(["colour", "tested", "doses", "until", "result", "name"])


@given(st.fixed_dictionaries({"code": SCALARS, "data": st.dictionaries(FIELDS, JSON)}))
def test_any_answer_is_facts_a_refusal_or_a_bad_response(document: dict[str, Any]) -> None:
    mapping = MAPPING.model_copy(
        update={
            "valid_until": "data.until",
            "test_result": "data.result",
            "holder_name": "data.name",
        }
    )
    try:
        answer = read_answer(document, mapping)
    except BadResponseError:
        return
    if isinstance(answer, PlatformFacts):  # and it fits the wire contract
        HealthCodeObservation(
            format=HealthCodeFormat.ONLINE,
            status=VerificationStatus.VALID,
            colour=answer.colour,
            last_test_at=answer.test_at,
            expires_at=answer.valid_until,
            seen_at=utc_now(),
        )


def test_an_answer_without_an_envelope() -> None:
    mapping = ResponseMapping(result_code=None, colour="healthColor")
    facts = read_answer({"healthColor": "red"}, mapping)
    assert isinstance(facts, PlatformFacts) and facts.colour is CodeColour.RED
    refusal = read_answer({"code": 1002}, MAPPING)
    assert refusal == read_answer({"code": "1002", "data": None}, MAPPING)


# --- configuration ---------------------------------------------------------------------------


ENDPOINT = {"endpoint": "https://hc.example/v"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "endpoint\n  Field required"),
        ({"endpoint": "ftp://hc.example/v"}, "URL scheme should be 'http' or 'https'"),
        ({"endpoint": "not a url"}, "Input should be a valid URL"),
        ({**ENDPOINT, "timeout_s": 0}, "timeout_s\n  Input should be greater than 0"),
        ({**ENDPOINT, "cache_max_entries": 0}, "cache_max_entries\n  Input should be greater"),
        ({**ENDPOINT, "on_unreachable": "maybe"}, "'hold', 'deny' or 'accept_with_alert'"),
        ({**ENDPOINT, "app_kee": "x"}, "app_kee\n  Extra inputs are not permitted"),
        ({**ENDPOINT, "response": {"colour_values": {"3": "purple"}}}, "colour_values.3\n"),
        ({**ENDPOINT, "response": {"error_reasons": {"7": "holder_mismatch"}}}, "maps to holder"),
    ],
)
def test_config_errors_name_the_field(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        OnlineVerifierConfig.model_validate(settings)
    assert message in str(caught.value)


def test_config_fields_are_documented_and_the_key_is_secret() -> None:
    for model in (OnlineVerifierConfig, ResponseMapping):
        for name, field in model.model_fields.items():
            assert field.title and field.description, f"{model.__name__}.{name}"
    config = OnlineVerifierConfig.model_validate(
        {"endpoint": "https://hc.example/v", "app_key": "s3cret-key"}
    )
    assert "s3cret-key" not in repr(config)
    assert config.timeout_s == 1.5 and config.on_unreachable is UnreachablePolicy.HOLD


def test_edge_config_errors_give_the_path_under_codes_online(tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "device_id": "gate-01",
                "site_id": "site-a",
                "capture": {"source": 0},
                "codes": {"online": {"endpoint": "https://hc.example/v", "timeout_s": -1}},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"codes\.online\.timeout_s: .*greater than 0"):
        load_config(path)


# --- through the edge pipeline ---------------------------------------------------------------


def _edge_config(platform: FakePlatform, **online: Any) -> EdgeConfig:
    return EdgeConfig(
        device_id="gate-01",
        site_id="site-a",
        capture=CaptureConfig(source="0"),
        qr=QrConfig(payloads=PayloadConfig(platform_patterns=[PATTERN])),
        faces=FaceConfig(enabled=False),
        codes=CodesConfig(policy=POLICY, online=platform.verifier_config(**online)),
    )


@pytest.mark.parametrize(
    ("code", "down", "site_policy", "action", "reasons"),
    [
        (GREEN, False, UnreachablePolicy.HOLD, GateAction.OPEN, ["green_code"]),
        (RED, False, UnreachablePolicy.HOLD, GateAction.DENY, ["red_code"]),
        (GREEN, True, UnreachablePolicy.HOLD, GateAction.HOLD, ["platform_unreachable"]),
        (
            GREEN,
            True,
            UnreachablePolicy.ACCEPT_WITH_ALERT,
            GateAction.OPEN,
            ["platform_unreachable"],
        ),
    ],
)
def test_a_platform_code_in_a_camera_frame_decides_the_passage(
    platform: FakePlatform,
    code: str,
    down: bool,
    site_policy: UnreachablePolicy,
    action: GateAction,
    reasons: list[str],
) -> None:
    pipeline = build_pipeline(
        _edge_config(platform, on_unreachable=site_policy),
        Gallery(),
        TrustStore(),
        qr=create(bounded=False),
    )
    verifier = pipeline.verifiers[HealthCodeFormat.ONLINE]
    assert isinstance(verifier, OnlineVerifier)
    if down:
        platform.stop()
    frame = qr_frame(code, module=5, rotation=15, seed=3)
    try:
        for step in range(3):  # the code stays in view for three frames
            assert pipeline.process(frame, step * 0.1, utc_now()) is None
        event = pipeline.tick(10.0, force=True)
    finally:
        verifier.close()

    assert event is not None
    (observation,) = event.health_codes()
    assert observation.format is HealthCodeFormat.ONLINE
    assert (event.decision.action, event.decision.reasons) == (action, reasons)
    assert platform.requests == (0 if down else 1)  # one request for three frames
    assert pipeline.stats.codes["health:online"] == 3


def test_without_an_online_section_platform_codes_stay_unverified(platform: FakePlatform) -> None:
    config = _edge_config(platform).model_copy(update={"codes": CodesConfig(policy=POLICY)})
    pipeline = build_pipeline(config, Gallery(), TrustStore(), qr=create(bounded=False))
    assert HealthCodeFormat.ONLINE not in pipeline.verifiers
    pipeline.process(qr_frame(GREEN, module=5, seed=4), 0.0, utc_now())
    event = pipeline.tick(10.0, force=True)
    assert event is not None
    (observation,) = event.health_codes()
    assert observation.reason_codes == [ReasonCode.UNSUPPORTED]
    assert event.decision.action is GateAction.HOLD
    assert platform.requests == 0
