"""Validators: vehicle plates and telephone numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engine.validators_helpers import (
    refusal,
)
from tongban.engine.validators import (
    PLATE_PROVINCES,
    mask_phone,
    parse_phone,
    parse_plate,
)

# --- vehicle plates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("苏E12345", "苏E12345"),
        ("苏E·12345", "苏E12345"),
        (" 苏e 1a2b3 ", "苏E1A2B3"),
        ("苏AD12345", "苏AD12345"),  # small new-energy, pure electric
        ("苏AF12345", "苏AF12345"),  # small new-energy, other
        ("苏ADA1234", "苏ADA1234"),
        ("苏A12345D", "苏A12345D"),  # large new-energy
        ("苏A·12345F", "苏A12345F"),
        ("京A1234学", "京A1234学"),
        ("京A·1234挂", "京A1234挂"),
        ("京A1234警", "京A1234警"),
        ("粤Z1234港", "粤Z1234港"),
        ("粤Z·A123澳", "粤ZA123澳"),
        ("苏ＡＤ１２３４５", "苏AD12345"),
    ],
)
def test_plate_accepted_and_normalised(raw, expected):
    assert parse_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写车牌号码"),
        ("·", "请填写车牌号码"),
        ("A12345", "车牌号码第1位应为省、自治区、直辖市简称，如“苏”"),
        ("台A12345", "车牌号码第1位应为省、自治区、直辖市简称，如“苏”"),
        ("苏I12345", "车牌号码第2位应为发牌机关字母（A–Z，不含I、O）"),
        ("苏1", "车牌号码第2位应为发牌机关字母（A–Z，不含I、O）"),
        ("苏", "车牌号码第2位应为发牌机关字母（A–Z，不含I、O）"),
        ("苏A1234", "车牌号码长度不正确：普通车牌共7位，新能源车牌共8位"),
        ("苏A1234567", "车牌号码长度不正确：普通车牌共7位，新能源车牌共8位"),
        ("苏A12O45", "车牌号码只能包含数字和字母（不含I、O）"),
        ("苏A12#45", "车牌号码只能包含数字和字母（不含I、O）"),
        ("苏A123456", "新能源车牌第3位或最后一位应为D或F"),
        ("苏AE12345", "新能源车牌第3位或最后一位应为D或F"),
        ("苏ADA12B4", "新能源车牌第3位或最后一位应为D或F"),
        ("京A12345学", "带“学”字的车牌共7位：省份简称、字母、4位号码和“学”"),
        ("京A1234港", "港澳入出境车牌应以“粤Z”开头"),
    ],
)
def test_plate_refusals_say_what_is_wrong(raw, message):
    assert refusal(parse_plate, raw) == message


plate_chars = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@given(
    province=st.sampled_from(PLATE_PROVINCES),
    authority=st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    serial=st.one_of(
        st.text(alphabet=plate_chars, min_size=5, max_size=5),
        st.tuples(
            st.sampled_from("DF"),
            st.sampled_from(plate_chars),
            st.integers(0, 9999).map("{:04d}".format),
        ).map("".join),
        st.tuples(st.integers(0, 99999).map("{:05d}".format), st.sampled_from("DF")).map("".join),
    ),
)
def test_generated_plates_accepted_with_any_separator_and_case(province, authority, serial):
    plate = province + authority + serial
    assert parse_plate(f" {province}{authority.lower()}·{serial.lower()} ") == plate
    assert parse_plate(plate) == plate


# --- telephone numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        (13812345678, "13812345678"),  # spreadsheets hand numbers over as ints
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-13812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0512-65221234", "0512-65221234"),
        ("051265221234", "0512-65221234"),
        ("0512 6522 1234", "0512-65221234"),
        ("(0512)65221234", "0512-65221234"),
        ("（0512）6522-1234", "0512-65221234"),
        ("0512-65221234-123", "0512-65221234-123"),
        ("0512-65221234转123", "0512-65221234-123"),
        ("0512-6522123", "0512-6522123"),
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("02165221234", "021-65221234"),
        ("029-8765432", "029-8765432"),
        ("+86 512 6522 1234", "0512-65221234"),
        ("+86 10 62345678", "010-62345678"),
    ],
)
def test_phone_accepted_and_normalised(raw, expected):
    assert parse_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写电话号码"),
        ("1381234567", "手机号码应为11位数字，以1开头"),
        ("138123456789", "手机号码应为11位数字，以1开头"),
        ("12812345678", "手机号码应为11位数字，以1开头"),
        ("1381234567a", "手机号码应为11位数字，以1开头"),
        ("65221234", "固定电话请加区号，如0512-65221234"),
        ("abc", "请填写11位手机号码或带区号的固定电话，如0512-65221234"),
        ("0512-652212", "固定电话格式不正确：区号3至4位，号码7至8位，如0512-65221234"),
        ("0512-652212345", "固定电话格式不正确：区号3至4位，号码7至8位，如0512-65221234"),
        ("011-62345678", "固定电话格式不正确：区号3至4位，号码7至8位，如0512-65221234"),
        ("0512-05221234", "固定电话格式不正确：区号3至4位，号码7至8位，如0512-65221234"),
        ("0512-65221234转", "固定电话格式不正确：区号3至4位，号码7至8位，如0512-65221234"),
    ],
)
def test_phone_refusals_say_what_is_wrong(raw, message):
    assert refusal(parse_phone, raw) == message


@given(
    second=st.sampled_from("3456789"),
    rest=st.integers(0, 10**9 - 1),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_generated_mobiles_accepted(second, rest, sep):
    mobile = f"1{second}{rest:09d}"
    typed = sep.join([mobile[:3], mobile[3:7], mobile[7:]])
    assert parse_phone(typed) == mobile
    assert parse_phone("+86" + typed) == mobile
    assert mask_phone(typed) == mobile[:3] + "****" + mobile[7:]


@given(
    area=st.one_of(
        st.sampled_from(["010"] + [f"02{d}" for d in range(10)]),
        st.integers(300, 999).map("0{}".format),
    ),
    number=st.integers(1_000_000, 99_999_999).map(str),
    ext=st.one_of(st.none(), st.integers(0, 99999).map(str)),
)
def test_generated_landlines_round_trip(area, number, ext):
    suffix = f"-{ext}" if ext else ""
    canonical = f"{area}-{number}{suffix}"
    assert parse_phone(canonical) == canonical
    assert parse_phone(canonical) == parse_phone(parse_phone(canonical))
    if not ext:
        assert parse_phone(area + number) == canonical  # the area-code split rule
