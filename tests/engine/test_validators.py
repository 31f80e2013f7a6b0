"""Validators for identifiers people type: accepted forms, Chinese refusals, never-raise."""

from __future__ import annotations

import contextlib
import math
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from tongban.engine.validators import (
    CHINA_MESSAGE,
    PLATE_PROVINCES,
    USCC_ALPHABET,
    ValidationError,
    gcj02_to_wgs84,
    id_card_birth_date,
    id_card_gender,
    id_check_digit,
    in_china,
    mask_id_card,
    mask_name,
    mask_phone,
    parse_geo,
    parse_id_card,
    parse_phone,
    parse_plate,
    parse_uscc,
    uscc_check_digit,
    wgs84_to_gcj02,
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


# --- resident identity card ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002X",
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２ｘ",  # full-width, as Chinese IMEs type it
        "110105491231002",  # first-generation 15-digit card
    ],
)
def test_id_card_accepted_and_normalised(raw):
    assert parse_id_card(raw) == "11010519491231002X"


def test_id_card_derived_fields():
    assert id_card_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert id_card_gender("11010519491231002X") == "female"
    assert id_card_gender("320508199003070017") == "male"
    assert id_card_birth_date("110105491231002") == date(1949, 12, 31)


def test_legacy_id_refused_when_not_allowed():
    message = refusal(lambda r: parse_id_card(r, allow_legacy=False), "110105491231002")
    assert "18位" in message
    assert parse_id_card("11010519491231002X", allow_legacy=False) == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "身份证号码应填写为文字，请重新填写"),
        ("", "请填写身份证号码"),
        ("   ", "请填写身份证号码"),
        ("1101051949123100", "身份证号码应为18位，请检查是否多填或漏填"),
        ("11010519491231002X1", "身份证号码应为18位，请检查是否多填或漏填"),
        ("11010519491231A02X", "身份证号码只能包含数字，最后一位可以是X"),
        ("X10105194912310021", "身份证号码只能包含数字，最后一位可以是X"),
        ("11010549123100A", "15位身份证号码只能包含数字"),
        # The cases below carry a correct check digit so only the named part is wrong.
        (with_id_check("11010519491301002"), "身份证号码中的出生日期不正确，请核对第7至14位"),
        (with_id_check("44030519990229002"), "身份证号码中的出生日期不正确，请核对第7至14位"),
        (with_id_check("11010520990101002"), "身份证号码中的出生日期不正确，请核对第7至14位"),
        (with_id_check("99010519491231002"), "身份证号码前6位地区码不存在或与出生年份不符，请核对"),
        # 110103 was 崇文区 until 2010: valid for someone born in 1949, not in 2015.
        (with_id_check("11010320151231002"), "身份证号码前6位地区码不存在或与出生年份不符，请核对"),
        ("110105194912310021", "身份证号码校验位不正确，请核对最后一位"),
        ("x" * 1000, "身份证号码过长，请检查是否粘贴了多余内容"),
    ],
)
def test_id_card_refusals_say_what_is_wrong(raw, message):
    assert refusal(parse_id_card, raw) == message


def test_id_card_area_code_must_have_existed_since_birth():
    assert parse_id_card(with_id_check("11010319491231002")) == "110103194912310027"  # 崇文区
    assert parse_id_card(with_id_check("44030520000229002")) == "440305200002290029"  # leap day
    # 沧浪区 (320502) existed 1983–2012; a 1949-born resident got the number in the 1980s.
    assert parse_id_card(with_id_check("32050219490101001")) == "320502194901010015"
    # 姑苏区 (320508) was created in 2012: fine for anyone born before it was abolished.
    assert parse_id_card(with_id_check("32050819900307001")) == "320508199003070017"


def test_unknown_county_in_a_known_province_is_refused_cleanly():
    number = with_id_check("61010520000101000")  # 陕西省 has no 610105
    message = "身份证号码前6位地区码不存在或与出生年份不符，请核对"
    assert refusal(parse_id_card, number) == message


def test_stdnum_quirks_parse_id_card_works_around():
    """python-stdnum 2.2 behaviour the module's design depends on; revisit if this fails."""
    from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

    assert issubclass(InvalidLength, InvalidFormat)  # so catch InvalidLength first
    with pytest.raises(InvalidChecksum):  # the check digit is tested before the date
        ric.validate("11010519491331002X")
    with pytest.raises(InvalidComponent):  # bad date and unknown area share one class
        ric.validate(with_id_check("11010519491301002"))
    with pytest.raises(InvalidComponent):
        ric.validate(with_id_check("99010519491231002"))
    with pytest.raises(KeyError):  # not even a ValidationError
        ric.validate(with_id_check("61010520000101000"))
    with pytest.raises(InvalidComponent):  # code checked against the birth year
        ric.validate(with_id_check("32050219490101001"))
    assert ric.validate(with_id_check("11010520990101002"))  # a future birth date passes


id_areas = st.sampled_from(["110105", "320508", "440305", "510104", "650102"])
birth_dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2020, 12, 31))
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


@given(area=id_areas, born=birth_dates, seq=sequences)
def test_generated_ids_are_accepted_and_decoded(area, born, seq):
    number = with_id_check(f"{area}{born:%Y%m%d}{seq}")
    assert parse_id_card(number.lower()) == number
    assert id_card_birth_date(number) == born
    assert id_card_gender(number) == ("male" if int(seq[-1]) % 2 else "female")
    assert id_check_digit(number[:17]) == ric.calc_check_digit(number)


@given(area=id_areas, born=birth_dates, seq=sequences, pos=st.integers(0, 17), data=st.data())
def test_any_single_character_change_is_refused(area, born, seq, pos, data):
    number = with_id_check(f"{area}{born:%Y%m%d}{seq}")
    replacement = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != number[pos]))
    with pytest.raises(ValidationError):
        parse_id_card(number[:pos] + replacement + number[pos + 1 :])


@given(area=id_areas, born=st.dates(date(1900, 1, 1), date(1999, 12, 31)), seq=sequences)
def test_legacy_ids_upgrade_to_the_18_digit_form(area, born, seq):
    expected = with_id_check(f"{area}{born:%Y%m%d}{seq}")
    assert parse_id_card(f"{area}{born:%y%m%d}{seq}") == expected


# --- unified social credit code ------------------------------------------------------------

LETTER_FIRST = "N2320507MF123456" + "7" + "K"  # 农业 registration; check digit computed below


def test_letter_first_example_check_digit_is_right():
    assert gb32100_check(LETTER_FIRST[:17]) == LETTER_FIRST[-1]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91110000600037341L", "91110000600037341L"),
        (" 91110000600037341l ", "91110000600037341L"),
        ("9111-0000-6000-3734-1L", "91110000600037341L"),
        ("９１１１００００６０００３７３４１Ｌ", "91110000600037341L"),
        (LETTER_FIRST, LETTER_FIRST),  # stdnum refuses this; GB 32100 allows it
        (LETTER_FIRST.lower(), LETTER_FIRST),
        ("Y1110000MA0000001Y", "Y1110000MA0000001Y"),
    ],
)
def test_uscc_accepted_and_normalised(raw, expected):
    assert parse_uscc(raw) == expected


def test_stdnum_refuses_letter_first_codes():
    assert not uscc.is_valid(LETTER_FIRST)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写统一社会信用代码"),
        ("9111000060003734", "统一社会信用代码应为18位，请检查是否多填或漏填"),
        ("91110000600037341I", "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）"),
        ("9111000060003734SL", "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）"),
        ("01110000600037341L", "统一社会信用代码第1位（登记管理部门代码）不正确，请核对"),
        ("9A110000600037341L", "统一社会信用代码第2至8位应为数字（机构类别和行政区划代码）"),
        ("91110000600037341M", "统一社会信用代码校验位不正确，请核对最后一位"),
        ("N2320507MF1234567A", "统一社会信用代码校验位不正确，请核对最后一位"),
    ],
)
def test_uscc_refusals_say_what_is_wrong(raw, message):
    assert refusal(parse_uscc, raw) == message


uscc_bodies = st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9)
uscc_heads = st.text(alphabet="0123456789", min_size=7, max_size=7)


@given(first=st.sampled_from("123456789"), head=uscc_heads, body=uscc_bodies)
def test_own_check_digit_agrees_with_stdnum_on_digit_first_codes(first, head, body):
    first17 = first + head + body
    assert uscc_check_digit(first17) == uscc.calc_check_digit(first17 + "0")
    assert uscc_check_digit(first17) == gb32100_check(first17)
    code = first17 + uscc_check_digit(first17)
    assert parse_uscc(code) == code
    assert uscc.is_valid(code)


@given(first=st.sampled_from(USCC_ALPHABET[10:]), head=uscc_heads, body=uscc_bodies)
def test_letter_first_codes_accepted_with_the_right_check_digit(first, head, body):
    first17 = first + head + body
    code = first17 + gb32100_check(first17)
    assert parse_uscc(code) == code
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 1) % 31]
    assert refusal(parse_uscc, first17 + wrong) == "统一社会信用代码校验位不正确，请核对最后一位"


@given(head=uscc_heads, body=uscc_bodies, pos=st.integers(8, 17), data=st.data())
def test_uscc_single_character_change_is_refused(head, body, pos, data):
    code = "9" + head + body + gb32100_check("9" + head + body)
    replacement = data.draw(st.sampled_from(USCC_ALPHABET).filter(lambda c: c != code[pos]))
    with pytest.raises(ValidationError):
        parse_uscc(code[:pos] + replacement + code[pos + 1 :])


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


# --- coordinates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"lat": 31.3, "lng": 120.6},
        {"lat": "31.3", "lon": "120.6"},
        {"latitude": 31.3, "longitude": 120.6},
        {"latitude": Decimal("31.3"), "longitude": Decimal("120.6")},
        [31.3, 120.6],
        (31.3, 120.6),
        ["31.3", " 120.6 "],
        "31.3,120.6",
        " 31.3 , 120.6 ",
        "31.3，120.6",
        "31.3 120.6",
        "３１.３,１２０.６",
    ],
)
def test_geo_accepted_as_lat_lng(raw):
    assert parse_geo(raw) == (31.3, 120.6)


def test_geo_accepts_edges_and_integers():
    assert parse_geo([90, -180]) == (90.0, -180.0)
    assert parse_geo("-90,180") == (-90.0, 180.0)
    assert parse_geo("+.5,-0.") == (0.5, -0.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写坐标"),
        ("31.3", "坐标应为“纬度,经度”，如 31.3,120.6"),
        ("1,2,3", "坐标应为“纬度,经度”，如 31.3,120.6"),
        ([31.3], "坐标应为[纬度, 经度]两个数"),
        ({"lat": 31.3}, "坐标缺少纬度（lat）或经度（lng）"),
        ({"lng": 120.6}, "坐标缺少纬度（lat）或经度（lng）"),
        ("abc,120.6", "纬度应为数字，如 31.3"),
        ("31.3,1_0", "经度应为数字，如 31.3"),
        ("nan,120.6", "纬度应为数字，如 31.3"),
        ("1e3,120.6", "纬度应为数字，如 31.3"),
        ([True, 120.6], "纬度应为数字，如 31.3"),
        ([None, 120.6], "纬度应为数字，如 31.3"),
        ([float("nan"), 120.6], "纬度应为有限的数字"),
        ([31.3, float("inf")], "经度应为有限的数字"),
        ([10**400, 120.6], "纬度应为有限的数字"),
        ("120.6,31.3", "纬度应在-90到90之间，请检查经纬度是否填反"),
        ("91,100", "纬度应在-90到90之间"),
        ("31.3,180.5", "经度应在-180到180之间"),
    ],
)
def test_geo_refusals_say_what_is_wrong(raw, message):
    assert refusal(parse_geo, raw) == message


finite_lat = st.floats(-90, 90, allow_nan=False)
finite_lng = st.floats(-180, 180, allow_nan=False)


@given(lat=finite_lat, lng=finite_lng)
def test_geo_round_trips_every_shape(lat, lng):
    assert parse_geo({"lat": lat, "lng": lng}) == (lat, lng)
    assert parse_geo([lat, lng]) == (lat, lng)
    text = f"{lat!r},{lng!r}"
    if "e" not in text:  # exponent notation is refused on purpose
        assert parse_geo(text) == (lat, lng)


def test_in_china():
    assert in_china(31.3, 120.6)  # 苏州
    assert in_china(39.908, 116.397)  # 北京
    assert not in_china(120.6, 31.3)  # swapped
    assert not in_china(48.85, 2.35)  # Paris
    assert not in_china(float("nan"), 120.0)
    assert not in_china(None, None)  # type: ignore[arg-type]
    assert CHINA_MESSAGE == "坐标不在中国境内，请检查经纬度是否填反"


# --- GCJ-02 -------------------------------------------------------------------------------

# (wgs_lat, wgs_lng, gcj_lat, gcj_lng), the published eviltransform reference values.
GCJ_REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 111_320
    dlng = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlng)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), GCJ_REFERENCE)
def test_gcj_matches_reference_values(wlat, wlng, glat, glng):
    assert wgs84_to_gcj02(wlat, wlng) == pytest.approx((glat, glng), abs=1e-9)
    assert gcj02_to_wgs84(glat, glng) == pytest.approx((wlat, wlng), abs=1e-7)


def test_gcj_tiananmen_shift_is_a_few_hundred_metres_and_inverts():
    wgs = (39.908, 116.397)
    gcj = wgs84_to_gcj02(*wgs)
    assert 300 < metres(wgs, gcj) < 800
    assert gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-6)


def test_gcj_leaves_points_outside_china_unchanged():
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)
    assert gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)
    assert wgs84_to_gcj02(-33.9, 151.2) == (-33.9, 151.2)


@given(lat=st.floats(18.0, 53.0), lng=st.floats(74.0, 134.5))
def test_gcj_round_trip_inside_china(lat, lng):
    gcj = wgs84_to_gcj02(lat, lng)
    assert metres((lat, lng), gcj) < 1500  # the offset is never more than ~1 km
    back = gcj02_to_wgs84(*gcj)
    assert back == pytest.approx((lat, lng), abs=1e-7)


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
