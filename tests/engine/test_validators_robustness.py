"""Validators never raise anything but ValidationError; masking of identifiers."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.engine.validators_helpers import (
    CJK,
    MASKS,
    PARSERS,
    birth_dates,
    id_areas,
    sequences,
    with_id_check,
)
from tongban.engine.validators import (
    PLATE_PROVINCES,
    USCC_ALPHABET,
    ValidationError,
    id_card_birth_date,
    id_card_gender,
    mask_id_card,
    mask_name,
    mask_phone,
    parse_id_card,
)

# --- anything at all: a ValidationError with a Chinese message, or a value -------------------

junk = st.one_of(
    st.text(),
    st.text(alphabet="0123456789Xx１２３４５６７８９０ｘ -·+转()", max_size=25),
    st.text(alphabet=PLATE_PROVINCES + "ABDFIOZ0123456789挂学警港澳", max_size=10),
    st.text(alphabet=USCC_ALPHABET + "ISOVZ", min_size=17, max_size=19),
    st.integers(),
    st.integers(min_value=10**10, max_value=10**19),
    st.none(),
    st.booleans(),
    st.binary(),
    st.floats(),
    st.decimals(),
    st.lists(st.one_of(st.floats(), st.text(max_size=8), st.integers(), st.none()), max_size=3),
    st.dictionaries(
        st.sampled_from(["lat", "lng", "lon", "latitude", "longitude", "x"]),
        st.one_of(st.floats(), st.text(max_size=8), st.integers(), st.none(), st.decimals()),
    ),
    st.tuples(st.floats(), st.floats()),
    st.just("x" * 100_000),
    st.just(10**5000),  # str() of it raises ValueError in Python ≥ 3.11
    st.just(Decimal("sNaN")),  # float() of it raises ValueError
    st.just([10**400, 1]),  # float() of it raises OverflowError
)


@given(raw=junk)
@example(raw="·")
@example(raw="\u3000")
@example(raw="١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")  # Arabic-Indic digits are not ID digits
def test_parsers_never_raise_anything_but_validation_error(raw):
    for parser in PARSERS:
        try:
            parser(raw)
        except ValidationError as exc:
            assert exc.message and CJK.search(exc.message), (parser.__name__, raw, exc.message)
            assert str(exc) == exc.message


@given(raw=junk)
def test_masks_never_raise(raw):
    for mask in MASKS:
        assert isinstance(mask(raw), str)


@given(raw=junk)
def test_legacy_switch_and_derived_fields_never_raise_unexpectedly(raw):
    for fn in (
        lambda r: parse_id_card(r, allow_legacy=False),
        id_card_birth_date,
        id_card_gender,
    ):
        with contextlib.suppress(ValidationError):
            fn(raw)


def test_validation_error_is_a_value_error_with_message():
    exc = ValidationError("请填写身份证号码")
    assert isinstance(exc, ValueError)
    assert exc.message == "请填写身份证号码"


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "raw", "expected"),
    [
        (mask_id_card, "11010519491231002X", "110105********002X"),
        (mask_id_card, "11010519491231002x", "110105********002X"),
        (mask_id_card, "110105491231002", "110105*****1002"),
        (mask_id_card, "12345", "*****"),
        (mask_id_card, None, ""),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+86 138 1234 5678", "138****5678"),
        (mask_phone, "0512-65221234", "0512-******34"),
        (mask_phone, "010-6234567-89", "010-*****67"),
        (mask_phone, "not a phone", "*********"),
        (mask_phone, None, ""),
        (mask_name, "张三", "张*"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "欧阳娜娜", "欧阳**"),
        (mask_name, "欧阳", "欧*"),
        (mask_name, "买买提·艾力", "买**·**"),
        (mask_name, "张", "*"),
        (mask_name, " 李 四 ", "李*"),
        (mask_name, "", ""),
        (mask_name, None, ""),
    ],
)
def test_masks(fn, raw, expected):
    assert fn(raw) == expected


@given(area=id_areas, born=birth_dates, seq=sequences)
def test_masked_id_hides_birth_date(area, born, seq):
    number = with_id_check(f"{area}{born:%Y%m%d}{seq}")
    masked = mask_id_card(number)
    assert masked[:6] == area and masked[-4:] == number[-4:]
    assert f"{born:%Y%m%d}" not in masked
