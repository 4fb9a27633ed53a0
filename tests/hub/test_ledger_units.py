"""Ledger building blocks without a database: ID numbers, parsing, encodings, settings, sample."""

from __future__ import annotations

import random
from datetime import date
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
from hub.ledger.mapping import MappingError, normalise_header, resolve_columns
from hub.ledger.reader import detect_encoding
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
    assert row.last_test_at is not None and row.last_test_at.utcoffset() is not None
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
