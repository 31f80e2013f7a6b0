"""Shared helpers and strategies for the validator tests."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import strategies as st

from tongban.engine.validators import (
    USCC_ALPHABET,
    ValidationError,
    id_check_digit,
    mask_id_card,
    mask_name,
    mask_phone,
    parse_geo,
    parse_id_card,
    parse_phone,
    parse_plate,
    parse_uscc,
)

PARSERS = [parse_id_card, parse_uscc, parse_plate, parse_phone, parse_geo]
MASKS = [mask_id_card, mask_phone, mask_name]
CJK = re.compile(r"[\u4e00-\u9fff]")


def refusal(parser, raw) -> str:
    with pytest.raises(ValidationError) as info:
        parser(raw)
    return info.value.message


def with_id_check(first17: str) -> str:
    return first17 + id_check_digit(first17)


def gb32100_check(first17: str) -> str:
    """The GB 32100 check digit written out independently of the module under test."""
    weights = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, … as in the standard
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


id_areas = st.sampled_from(["110105", "320508", "440305", "510104", "650102"])
birth_dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2020, 12, 31))
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
