"""Payload routing: door plates, health-code prefixes, and garbage that must not raise."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from edge.decoders.payloads import (
    DoorPlate,
    HealthCode,
    PayloadClassifier,
    PayloadConfig,
    Unknown,
    UnknownReason,
)
from edge.decoders.qr import create
from models import DoorPlateObservation, HealthCodeFormat
from models.base import utc_now
from tests.support.frames import qr_frame

LOCAL = PayloadConfig(
    plate_patterns=[r"SHADDR\|(?P<code>[0-9]{12})", r"mp://plate\?id=(?P<code>[A-Z0-9]+)"],
)


@pytest.fixture
def classifier() -> PayloadClassifier:
    return PayloadClassifier(LOCAL)


@pytest.mark.parametrize(
    ("payload", "code", "form"),
    [
        ("GGDP1:310101001001", "310101001001", "ggdp1"),
        ("GGDP1:Ab_9-z", "Ab_9-z", "ggdp1"),
        ("https://plates.example.org/a/310115-0042-0301", "310115-0042-0301", "url"),
        ("http://10.0.0.5:8080/a/3101_01/", "3101_01", "url"),
        ("HTTPS://PLATES.EXAMPLE.ORG/A/ABCD1234", "ABCD1234", "url"),
        ("SHADDR|310101001001", "310101001001", "pattern0"),
        ("mp://plate?id=GRID42", "GRID42", "pattern1"),
        (b"GGDP1:310101001001\r\n", "310101001001", "ggdp1"),
        ("\ufeffGGDP1:310101001001", "310101001001", "ggdp1"),
    ],
)
def test_door_plate_forms(
    classifier: PayloadClassifier, payload: str | bytes, code: str, form: str
) -> None:
    assert classifier.classify(payload) == DoorPlate(code, form)
    DoorPlateObservation(address_code=code, seen_at=utc_now())  # fits the wire contract


@pytest.mark.parametrize(
    "payload",
    [
        "GGDP1:abc",  # too short
        "GGDP1:" + "a" * 65,  # too long
        "GGDP1:31 01",
        "GGDP1:310101/001",
        "https://plates.example.org/a/",
        "https://plates.example.org/a/ab%2F",
        "SHADDR|31010100100",  # the local pattern matches in full or not at all
    ],
)
def test_bad_address_codes_are_unknown(classifier: PayloadClassifier, payload: str) -> None:
    result = classifier.classify(payload)
    assert isinstance(result, Unknown)


def test_plate_hosts_restrict_urls() -> None:
    classifier = PayloadClassifier(PayloadConfig(plate_hosts=["Plates.Example.org"]))
    assert classifier.classify("https://plates.example.org/a/abcd") == DoorPlate("abcd", "url")
    assert classifier.classify("https://evil.example/a/abcd") == Unknown(UnknownReason.FOREIGN_HOST)


@pytest.mark.parametrize(
    ("payload", "fmt"),
    [
        ("GGHC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3", HealthCodeFormat.GRIDGATE),
        ("HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IDNA9F1S6XF1 ", HealthCodeFormat.EU_DCC),
        (
            "shc:/" + "567629095243206034602924374044603122295953265460346029" * 4,
            HealthCodeFormat.SMART_HEALTH_CARD,
        ),
    ],
)
def test_health_code_prefixes_route_with_the_full_text(
    classifier: PayloadClassifier, payload: str, fmt: HealthCodeFormat
) -> None:
    assert classifier.classify(payload) == HealthCode(fmt, payload)
    assert classifier.classify(payload.encode()) == HealthCode(fmt, payload)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("", UnknownReason.EMPTY),
        (b"", UnknownReason.EMPTY),
        ("   \r\n", UnknownReason.EMPTY),
        ("hello world", UnknownReason.UNRECOGNISED),
        ("WIFI:S:gate;T:WPA;P:secret;;", UnknownReason.UNRECOGNISED),
        ("hc1:lowercase-is-not-a-dcc", UnknownReason.UNRECOGNISED),
        (b"\xff\xfe\x00GGDP1", UnknownReason.NOT_UTF8),
        (b"GGDP1:\xc3\x28abcd", UnknownReason.NOT_UTF8),
        ("GGDP1:ab\x00cd", UnknownReason.CONTROL_CHARACTERS),
        ("HC1:\x1b[31mred", UnknownReason.CONTROL_CHARACTERS),
        ("GGDP1:abcd\u0085", UnknownReason.CONTROL_CHARACTERS),
        ("GGDP1:abc\ud800", UnknownReason.CONTROL_CHARACTERS),
        ("HC1:" + "A" * (1 << 20), UnknownReason.OVERSIZE),
        (b"GGDP1:" + b"1" * (1 << 20), UnknownReason.OVERSIZE),
        ("GGHC1:" + "é" * 4500, UnknownReason.OVERSIZE),  # 4500 chars, 9000 bytes
    ],
)
def test_garbage_is_unknown_with_a_reason(
    classifier: PayloadClassifier, payload: str | bytes, reason: UnknownReason
) -> None:
    assert classifier.classify(payload) == Unknown(reason)


def test_outcomes_are_counted(classifier: PayloadClassifier) -> None:
    for payload in ("GGDP1:abcd", "HC1:X", "junk", b"\xff", "", "junk"):
        classifier.classify(payload)
    assert classifier.counts() == {
        "door_plate": 1,
        "health_code": 1,
        "unknown.unrecognised": 2,
        "unknown.not_utf8": 1,
        "unknown.empty": 1,
    }


@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_classify_never_raises(payload: str | bytes) -> None:
    result = PayloadClassifier(LOCAL).classify(payload)
    assert isinstance(result, DoorPlate | HealthCode | Unknown)
    if isinstance(result, DoorPlate):
        DoorPlateObservation(address_code=result.address_code, seen_at=utc_now())


def test_config_is_strict_and_checks_patterns() -> None:
    with pytest.raises(ValidationError, match="named group 'code'"):
        PayloadConfig(plate_patterns=[r"ADDR:(\d+)"])
    with pytest.raises(ValidationError, match="invalid regular expression"):
        PayloadConfig(plate_patterns=[r"ADDR:(?P<code>"])
    with pytest.raises(ValidationError):
        PayloadConfig.model_validate({"patterns": []})
    for name, field in PayloadConfig.model_fields.items():
        assert field.title and field.description, name


def test_decoded_symbols_route_end_to_end() -> None:
    decoder = create(bounded=False)
    classifier = PayloadClassifier()
    plate = "https://plates.example.org/a/310115-0042-0301"
    health = "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IDNA9F1S6XF1SUZK80JPTGNX9AJ0:IR*B/1"
    results = []
    for seed, text in enumerate((plate, health)):
        (symbol,) = decoder.decode(qr_frame(text, module=5, rotation=20, seed=seed))
        results.append(classifier.classify(symbol.payload))
    assert results == [
        DoorPlate("310115-0042-0301", "url"),
        HealthCode(HealthCodeFormat.EU_DCC, health),
    ]


# --- platform health codes (verified online) ---------------------------------------------

PLATFORM = PayloadConfig(
    plate_patterns=[r"SHADDR\|(?P<code>[0-9]{12})"],
    platform_patterns=[r"https://hc\.example\.gov\.cn/q/[A-Z0-9]{10}", r"JKM:[0-9a-f]{32}"],
)


@pytest.mark.parametrize(
    "payload",
    ["https://hc.example.gov.cn/q/G7K2M9Q4X1", "JKM:" + "0123456789abcdef" * 2],
)
def test_platform_patterns_route_to_the_online_verifier(payload: str) -> None:
    classifier = PayloadClassifier(PLATFORM)
    assert classifier.classify(payload) == HealthCode(HealthCodeFormat.ONLINE, payload)
    assert classifier.classify(payload.encode() + b"\r\n") == HealthCode(
        HealthCodeFormat.ONLINE, payload
    )
    assert classifier.counts() == {"health_code": 2}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # anchored: a prefix, a suffix or an embedded match is not a platform code
        ("https://hc.example.gov.cn/q/G7K2M9Q4X1/extra", Unknown(UnknownReason.UNRECOGNISED)),
        ("see https://hc.example.gov.cn/q/G7K2M9Q4X1", Unknown(UnknownReason.UNRECOGNISED)),
        ("JKM:" + "0" * 31, Unknown(UnknownReason.UNRECOGNISED)),
        ("https://hcXexample.gov.cn/q/G7K2M9Q4X1", Unknown(UnknownReason.UNRECOGNISED)),
        # other forms keep their own routes
        ("GGHC1:6BFOXN*TS0BI", HealthCode(HealthCodeFormat.GRIDGATE, "GGHC1:6BFOXN*TS0BI")),
        ("SHADDR|310101001001", DoorPlate("310101001001", "pattern0")),
        ("GGDP1:310101001001", DoorPlate("310101001001", "ggdp1")),
    ],
)
def test_platform_patterns_match_whole_payloads_only(
    payload: str, expected: DoorPlate | HealthCode | Unknown
) -> None:
    assert PayloadClassifier(PLATFORM).classify(payload) == expected


def test_without_platform_patterns_platform_codes_are_unrecognised() -> None:
    result = PayloadClassifier().classify("https://hc.example.gov.cn/q/G7K2M9Q4X1")
    assert result == Unknown(UnknownReason.UNRECOGNISED)


def test_platform_patterns_are_checked_and_bounded() -> None:
    with pytest.raises(ValidationError, match="invalid regular expression"):
        PayloadConfig(platform_patterns=[r"JKM:(?P<x>"])
    with pytest.raises(ValidationError, match="longer than 256"):
        PayloadConfig(platform_patterns=["A" * 257])
    with pytest.raises(ValidationError, match="at most 16 items"):
        PayloadConfig(platform_patterns=[f"P{i}:.+" for i in range(17)])


@given(st.text(max_size=300))
def test_classify_with_platform_patterns_never_raises(payload: str) -> None:
    result = PayloadClassifier(PLATFORM).classify(payload)
    if isinstance(result, HealthCode) and result.format is HealthCodeFormat.ONLINE:
        assert any(p.fullmatch(result.text) for p in map(re.compile, PLATFORM.platform_patterns))


def test_a_decoded_platform_code_routes_end_to_end() -> None:
    text = "https://hc.example.gov.cn/q/G7K2M9Q4X1"
    (symbol,) = create(bounded=False).decode(qr_frame(text, module=5, rotation=-25, seed=9))
    assert PayloadClassifier(PLATFORM).classify(symbol.payload) == HealthCode(
        HealthCodeFormat.ONLINE, text
    )
