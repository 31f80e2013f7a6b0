"""Validators: resident identity cards and unified social credit codes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from tests.engine.validators_helpers import (
    birth_dates,
    gb32100_check,
    id_areas,
    refusal,
    sequences,
    with_id_check,
)
from tongban.engine.validators import (
    USCC_ALPHABET,
    ValidationError,
    id_card_birth_date,
    id_card_gender,
    id_check_digit,
    parse_id_card,
    parse_uscc,
    uscc_check_digit,
)

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
