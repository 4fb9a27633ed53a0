"""Keyed holder references and masked identifiers."""

from __future__ import annotations

import pytest

from models.identity import holder_ref, mask_id_number, mask_name

KEY = b"k" * 32


def test_holder_ref_is_stable_keyed_and_does_not_contain_the_number() -> None:
    ref = holder_ref("11010119900307451X", KEY)
    assert ref == holder_ref(" 11010119900307451x ", KEY)
    assert ref != holder_ref("11010119900307451X", b"j" * 32)
    assert "1101011990" not in ref
    assert ref.startswith("h1:")


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        holder_ref("110101199003074514", b"short")


def test_masks() -> None:
    assert mask_id_number("110101199003074514") == "110***********4514"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
