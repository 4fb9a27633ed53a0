"""Ledger building blocks without a database: ID numbers, parsing, encodings, settings, sample."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from stdnum.cn import ric

from hub.config import HubSettings
from hub.ledger import parse
from hub.ledger.idnumber import (
    HolderHasher,
    InvalidIdNumberError,
    stdnum_reason,
    validate_id_number,
)
from hub.ledger.kinds import LedgerKind
from hub.ledger.mapping import ALIASES, MappingError, normalise_header, resolve_columns
from hub.ledger.reader import detect_encoding
from hub.ledger.rowparse import ParseSpec, RowParser
from hub.ledger.rows import ResidentIn
from hub.ledger.sample import generate
from models.identity import holder_ref
from tests.hub.conftest import TEST_SECRET


def test_id_validation_agrees_with_stdnum() -> None:
    rng = random.Random(3)
    regions = ["110105", "310104", "440106", "990000", "310115", "120101"]
    for _ in range(3000):
        body = (
            rng.choice(regions)
            + f"{rng.randrange(1900, 2030)}{rng.randrange(1, 14):02d}{rng.randrange(0, 33):02d}"
            + f"{rng.randrange(1000):03d}"
        )
        check = ric.calc_check_digit(body + "0") if rng.random() < 0.8 else rng.choice("0123X")
        number = body + check
        try:
            validate_id_number(number)
            ours = None
        except InvalidIdNumberError:
            ours = "invalid"
        assert (ours is None) == (stdnum_reason(number) is None), number


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1101051949123100", "must have 18 characters, not 16"),
        ("11010519491231002Y", "wrong check digit"),
        ("110105194902301234", "invalid birth date"),
        ("11010A19491231002X", "the first 17 characters must be digits"),
    ],
)
def test_invalid_id_reasons(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumberError, match=reason):
        validate_id_number(value)


def test_fast_holder_hash_equals_the_contract() -> None:
    key = b"k" * 32
    hasher = HolderHasher(key)
    for number in (
        "11010519491231002X",
        " 11010519491231002x ",
        "１１０１０５１９４９１２３１００２Ｘ",
    ):
        assert hasher(number) == holder_ref(number, key)
    with pytest.raises(ValueError, match="16 bytes"):
        HolderHasher(b"short")


def test_cell_parsers() -> None:
    assert parse.a_date("2024年11月3日") == date(2024, 11, 3)
    assert parse.a_date("2024/11/03") == parse.a_date("20241103") == date(2024, 11, 3)
    assert parse.boolean("是") is True and parse.boolean("N") is False
    assert parse.plates("沪A·12345、苏B 67890") == ["沪A12345", "苏B67890"]
    assert parse.channels("sms:138; email：a@b.cn") == {"sms": "138", "email": "a@b.cn"}
    row = ResidentIn.model_validate(
        {
            "id_number": "11010519491231002X",
            "name": "王丽",
            "role": "租户",
            "code_colour": "红码",
            "last_test_at": "2022/11/19 08:30",
        }
    )
    assert row.role == "tenant" and row.code_colour == "red"
    assert row.last_test_at == datetime(2022, 11, 19, 0, 30, tzinfo=UTC)  # 08:30 in China
    assert row.last_test_at.tzinfo is UTC  # as the store reads it back: compared cheaply
    assert parse.a_datetime("2022-11-19T08:30:00+02:00") == datetime(
        2022, 11, 19, 6, 30, tzinfo=UTC
    )
    with pytest.raises(ValidationError):
        ResidentIn.model_validate({"id_number": "11010519491231002X", "name": "x", "extra": 1})


def test_encoding_detection() -> None:
    text = "姓名,身份证号,地址\n王丽,11010519491231002X,新塘里12号\n" * 20
    assert detect_encoding(text.encode("gbk")) == "gb18030"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("utf-8-sig")) == "utf-8-sig"


def test_headers_resolve_with_notes_and_full_width() -> None:
    assert normalise_header(" 身份证号（必填）*") == "身份证号"
    columns, ignored = resolve_columns(LedgerKind.RESIDENTS, ["姓名", "ＩＤ_NUMBER", "备注"], {})
    assert columns == ["name", "id_number", None] and ignored == ["备注"]
    with pytest.raises(MappingError, match="both map to 'name'"):
        resolve_columns(LedgerKind.RESIDENTS, ["姓名", "名字", "身份证号"], {})


@pytest.mark.parametrize("key", ["changethis", "too-short"])
def test_weak_identity_key_refused_outside_dev_mode(key: str) -> None:
    with pytest.raises(ValidationError, match="GRIDGATE_HUB_IDENTITY_KEY"):
        HubSettings(secret_key=TEST_SECRET, identity_key=key)
    assert HubSettings(secret_key=TEST_SECRET, identity_key=key, dev_mode=True).identity_key


def test_identity_key_is_optional_and_secret() -> None:
    assert HubSettings(secret_key=TEST_SECRET).identity_key is None
    settings = HubSettings(secret_key=TEST_SECRET, identity_key="x" * 40)
    assert "x" * 40 not in repr(settings)


def test_sample_is_deterministic_and_valid(tmp_path: Path) -> None:
    one, two = generate(300, seed=5), generate(300, seed=5)
    assert one == two and one != generate(300, seed=6)
    ids = [row["id_number"] for row in one.residents]
    assert len(set(ids)) == len(ids)
    for number in ids:
        validate_id_number(number)
    assert {row["street"] for row in one.residents} <= {
        "新塘里",
        "长庚里",
        "建设路",
        "解放路",
        "人民路",
        "和平里",
        "幸福里",
        "文化路",
        "胜利街",
        "光明巷",
        "梅园弄",
        "桂花巷",
    }
    assert {row["grid_id"] for row in one.residents} <= {g["grid_id"] for g in one.grids}


RESIDENT_FIELDS = tuple(ALIASES[LedgerKind.RESIDENTS])
GOOD_ROW = {name: "" for name in RESIDENT_FIELDS} | {
    "id_number": "11010519491231002X",
    "name": "王丽",
    "phone": "13800000000",
    "address_code": "XTL-001-01-1-101",
    "street": "新塘里",
    "number": "1",
    "building": "1",
    "unit": "1",
    "room": "101",
    "grid_id": "G0001",
    "role": "户籍",
    "code_colour": "绿码",
    "last_test_at": "2022-11-19 08:30",
    "key_area_returnee": "否",
}


def _parsers() -> tuple[RowParser, RowParser]:
    """A parser with the fast path and one validating every row with the model."""
    spec = ParseSpec(
        kind=LedgerKind.RESIDENTS,
        columns=RESIDENT_FIELDS,
        width=len(RESIDENT_FIELDS),
        strict_width=True,
        encoding="utf-8",
        utc_offset_hours=8.0,
        identity_key=b"units-identity-key-0123456789abcdef",
    )
    fast, slow = RowParser(spec), RowParser(spec)
    slow.fast = None
    return fast, slow


def test_fast_path_takes_well_formed_rows_with_the_models_result() -> None:
    fast, slow = _parsers()
    rows = [GOOD_ROW, *generate(300, seed=4).residents]
    for number, row in enumerate(rows, start=2):
        cells = [row.get(name, "") for name in RESIDENT_FIELDS]
        data = {name: value.strip() for name, value in row.items() if value.strip()}
        assert fast.fast is not None and fast.fast(data) is not None, row
        parsed = fast.parse(number, cells)
        assert parsed == slow.parse(number, cells)
        assert parsed is not None and parsed[1] is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id_number", "110105194912310021"),  # wrong check digit
        ("id_number", "11010519491231002x"),
        ("id_number", "１１０１０５１９４９１２３１００２Ｘ"),
        ("id_number", "110105 19491231 002X"),
        ("id_number", "110105194902301234"),
        ("id_number", "1101051949123100"),
        ("name", "张" * 100),
        ("name", "张" * 101),
        ("name", ""),
        ("phone", "+86 (138) 0000-0000"),
        ("phone", "1380000000０"),
        ("phone", "1" * 33),
        ("address_code", "XT-1"),
        ("address_code", "XTL"),
        ("address_code", "XTL 001"),
        ("address_code", "ＸTL-001"),
        ("address_code", "a" * 65),
        ("grid_id", "G.0001_a-b"),
        ("grid_id", "-G1"),
        ("grid_id", "G" * 65),
        ("grid_id", "网格1"),
        ("street", "路" * 100),
        ("street", "路" * 101),
        ("room", "1" * 21),
        ("number", "12号"),
        ("role", "TENANT"),
        ("role", "租户"),
        ("role", "boss"),
        ("role", ""),
        ("code_colour", "Green"),
        ("code_colour", "紫码"),
        ("key_area_returnee", "maybe"),
        ("key_area_returnee", "Y"),
        ("key_area_returnee", "√"),
        ("quarantine_until", "2022-02-30"),
        ("quarantine_until", "2022年11月3日"),
        ("quarantine_until", "20221103"),
        ("quarantine_until", "2022-11-03 08:00"),
        ("last_test_at", "2022-13-45"),
        ("last_test_at", "2022/11/19 8:30"),
        ("last_test_at", "2022-11-19T08:30:00Z"),
        ("last_test_at", "2022-11-19 25:00"),
        ("last_test_at", "2022-11-19"),
        ("plates", "沪A·12345、苏B 67890"),
        ("plates", "沪a12345;;"),
        ("plates", "沪A1"),
        ("plates", "AB" * 7),
    ],
)
def test_fast_and_model_paths_agree_on_subtle_rows(field: str, value: str) -> None:
    fast, slow = _parsers()
    cells = [dict(GOOD_ROW, **{field: value})[name] for name in RESIDENT_FIELDS]
    assert fast.parse(7, cells) == slow.parse(7, cells)
