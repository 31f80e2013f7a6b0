"""Parsers for Chinese identifiers and coordinates typed by people at a counter or a phone.

Every `parse_*` takes whatever the form, API or spreadsheet handed over and either returns
the normalised value or raises `ValidationError` with a Chinese sentence saying what is
wrong and how to fix it. They never raise anything else: callers show `.message` as-is.

Pure standard library plus python-stdnum, so the engine stays free of Django.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any

from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric, uscc

from tongban.engine.validators_base import (
    _FULLWIDTH,
    _MAX_INPUT,
    ValidationError,
    _squeeze,
    _text,
)
from tongban.engine.validators_geo import (
    _A,
    _DECIMAL,
    _EE,
    _GEO_SHAPE,
    _LAT_KEYS,
    _LNG_KEYS,
    CHINA_MESSAGE,
    _coordinate,
    _gcj_offset,
    _geo_parts,
    gcj02_to_wgs84,
    in_china,
    parse_geo,
    wgs84_to_gcj02,
)
from tongban.engine.validators_mask import (
    _COMPOUND_SURNAMES,
    _SURNAME_PAIRS,
    _mask_text,
    mask_id_card,
    mask_name,
    mask_phone,
)
from tongban.engine.validators_phone import (
    _LANDLINE,
    _MOBILE,
    _MOBILE_MSG,
    _strip_country_code,
    parse_phone,
)

__all__ = [
    "CHINA_MESSAGE",
    "PLATE_PROVINCES",
    "USCC_ALPHABET",
    "ValidationError",
    "gcj02_to_wgs84",
    "id_card_birth_date",
    "id_card_gender",
    "id_check_digit",
    "in_china",
    "mask_id_card",
    "mask_name",
    "mask_phone",
    "parse_geo",
    "parse_id_card",
    "parse_phone",
    "parse_plate",
    "parse_uscc",
    "uscc_check_digit",
    "wgs84_to_gcj02",
]
# Private names of the old single module, still importable from here.
_REEXPORTED = (
    _FULLWIDTH,
    _MAX_INPUT,
    _A,
    _DECIMAL,
    _EE,
    _GEO_SHAPE,
    _LAT_KEYS,
    _LNG_KEYS,
    _coordinate,
    _gcj_offset,
    _geo_parts,
    _COMPOUND_SURNAMES,
    _SURNAME_PAIRS,
    _mask_text,
    _LANDLINE,
    _MOBILE,
    _MOBILE_MSG,
    _strip_country_code,
)

# --- resident identity card (GB 11643) -----------------------------------------------------

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_ID_LEN = "身份证号码应为18位，请检查是否多填或漏填"
_ID_CHARS = "身份证号码只能包含数字，最后一位可以是X"
_ID_BIRTH = "身份证号码中的出生日期不正确，请核对第7至14位"
_ID_AREA = "身份证号码前6位地区码不存在或与出生年份不符，请核对"
_ID_CHECK = "身份证号码校验位不正确，请核对最后一位"


def id_check_digit(first17: str) -> str:
    """GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def parse_id_card(raw: Any, *, allow_legacy: bool = True) -> str:
    """A mainland resident ID number as 18 upper-case characters."""
    number = _squeeze(_text(raw, "身份证号码")).upper()
    if len(number) == 15 and allow_legacy:
        number = _upgrade_legacy_id(number)
    elif len(number) == 15:
        raise ValidationError("请填写18位身份证号码，15位旧号码已停用")
    if len(number) != 18:
        raise ValidationError(_ID_LEN)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise ValidationError(_ID_CHARS)
    # Ask about the date, then the area, then the check digit, so the person is told which
    # part is wrong (stdnum.cn.ric.validate checks the digit first, and reports a bad date
    # and an unknown area alike as InvalidComponent).
    born = _stdnum_check(ric.get_birth_date, number, _ID_BIRTH)
    if born > date.today():  # stdnum accepts birth dates in the future
        raise ValidationError(_ID_BIRTH)
    if not _area_in_use_since(number[:6], born.year):
        raise ValidationError(_ID_AREA)
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(_ID_CHECK)
    return number


@functools.lru_cache(maxsize=8192)  # depends only on (area, year): registries import 100 k IDs
def _area_in_use_since(area: str, year: int) -> bool:
    """Whether the division code existed in `year` or later, per stdnum's code history.

    Not ric.get_birth_place: it demands the code existed in the birth year, but a number
    is assigned when first registered (for anyone born before 1984, years later), so it
    refuses e.g. a 1949-born Suzhou resident's 320502 (沧浪区, 1983–2012). It also raises
    KeyError, not InvalidComponent, for an unknown county in a known province (610105).
    """
    found = numdb.get("cn/loc").info(area)
    counties = next((props["county"] for _, props in found if "county" in props), "")
    for entry in filter(None, counties.split(",")):
        period = re.match(r"\[(\d*)-(\d*)\]", entry)  # "[1983-2012]沧浪区"; none = current
        if not period or not period[2] or int(period[2]) >= year:
            return True
    return False


def _upgrade_legacy_id(number: str) -> str:
    """First-generation 15-digit number (19YYMMDD implied, no check digit) to 18 digits."""
    if not re.fullmatch(r"[0-9]{15}", number):
        raise ValidationError("15位身份证号码只能包含数字")
    first17 = number[:6] + "19" + number[6:]
    return first17 + id_check_digit(first17)


def _stdnum_check(check: Any, number: str, message: str) -> Any:
    """Run a stdnum check; any of its errors becomes our ValidationError with `message`."""
    try:
        return check(number)
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(message) from exc


def id_card_birth_date(value: Any) -> date:
    """Birth date encoded in an ID number (validated first)."""
    number = parse_id_card(value)
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_card_gender(value: Any) -> str:
    """'male' or 'female': the 17th digit is odd for men, even for women."""
    return "male" if int(parse_id_card(value)[16]) % 2 else "female"


# --- unified social credit code (GB 32100-2015) --------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration-authority codes GB 32100 assigns: 1-9 and the letters (0 is unused).
_USCC_AUTHORITIES = USCC_ALPHABET[1:]
_USCC_CHECK = "统一社会信用代码校验位不正确，请核对最后一位"


def uscc_check_digit(first17: str) -> str:
    """GB 32100 check character for the first 17 characters."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(raw: Any) -> str:
    """A unified social credit code as 18 upper-case characters."""
    code = _squeeze(_text(raw, "统一社会信用代码"), "-").upper()
    if len(code) != 18:
        raise ValidationError("统一社会信用代码应为18位，请检查是否多填或漏填")
    if any(c not in USCC_ALPHABET for c in code):
        raise ValidationError("统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）")
    if code[0] not in _USCC_AUTHORITIES:
        raise ValidationError("统一社会信用代码第1位（登记管理部门代码）不正确，请核对")
    if not code[1:8].isdigit():  # ASCII already: every character is in the alphabet
        raise ValidationError("统一社会信用代码第2至8位应为数字（机构类别和行政区划代码）")
    if code[0].isdigit():
        # stdnum only knows digit-first codes; let it have the final word on those.
        return _stdnum_check(uscc.validate, code, _USCC_CHECK)
    # Letter-first codes (e.g. N = 农业, Y = 其他) are valid GB 32100 but stdnum rejects
    # them as InvalidFormat, so check the digit ourselves.
    if code[-1] != uscc_check_digit(code[:17]):
        raise ValidationError(_USCC_CHECK)
    return code


# --- vehicle plates (GA 36-2018) ------------------------------------------------------------

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O look like 1 and 0, so plates skip them
_PLATE_CHAR = "0123456789" + _PLATE_LETTER
_PLATE_SUFFIXES = "挂学警港澳"
_PLATE_DOTS = "·・•.-"
_PLATE_LEN = "车牌号码长度不正确：普通车牌共7位，新能源车牌共8位"
# New-energy serials: small cars D/F first, then a letter or digit, then 4 digits;
# large vehicles 5 digits then D/F.
_NEV_SERIAL = re.compile(r"[DF][0-9A-HJ-NP-Z][0-9]{4}|[0-9]{5}[DF]")


def parse_plate(raw: Any) -> str:
    """A vehicle plate without separators, e.g. 苏E12345, 苏AD12345, 京A1234学."""
    plate = _squeeze(_text(raw, "车牌号码"), _PLATE_DOTS).upper()
    if not plate:
        raise ValidationError("请填写车牌号码")
    if plate[0] not in PLATE_PROVINCES:
        raise ValidationError("车牌号码第1位应为省、自治区、直辖市简称，如“苏”")
    if len(plate) < 2 or plate[1] not in _PLATE_LETTER:
        raise ValidationError("车牌号码第2位应为发牌机关字母（A–Z，不含I、O）")
    serial, suffix = plate[2:], ""
    if serial and serial[-1] in _PLATE_SUFFIXES:
        serial, suffix = serial[:-1], serial[-1]
    if any(c not in _PLATE_CHAR for c in serial):
        raise ValidationError("车牌号码只能包含数字和字母（不含I、O）")
    if suffix:
        _check_special_plate(plate, serial, suffix)
    elif len(serial) == 6 and not _NEV_SERIAL.fullmatch(serial):
        raise ValidationError("新能源车牌第3位或最后一位应为D或F")
    elif len(serial) not in (5, 6):
        raise ValidationError(_PLATE_LEN)
    return plate


def _check_special_plate(plate: str, serial: str, suffix: str) -> None:
    # Trailer, learner, police and HK/Macau plates carry 4 characters before the suffix.
    if len(serial) != 4:
        raise ValidationError(f"带“{suffix}”字的车牌共7位：省份简称、字母、4位号码和“{suffix}”")
    if suffix in "港澳" and not plate.startswith("粤Z"):
        raise ValidationError("港澳入出境车牌应以“粤Z”开头")
