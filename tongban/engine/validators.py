"""Parsers for Chinese identifiers and coordinates typed by people at a counter or a phone.

Every `parse_*` takes whatever the form, API or spreadsheet handed over and either returns
the normalised value or raises `ValidationError` with a Chinese sentence saying what is
wrong and how to fix it. They never raise anything else: callers show `.message` as-is.

Pure standard library plus python-stdnum, so the engine stays free of Django.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from datetime import date
from decimal import Decimal
from typing import Any

from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric, uscc


class ValidationError(ValueError):
    """Input a person must correct; `.message` is shown to them verbatim."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- shared input clean-up ---------------------------------------------------------------

# Chinese IMEs often type full-width forms (１２３, ＡＢ, full-width space); fold them to
# ASCII. Deliberately not NFKC, which would also turn ① or ² into digits.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Anything longer is a paste accident, not an identifier; refusing early bounds the work.
_MAX_INPUT = 200


def _text(raw: Any, label: str) -> str:
    """Raw input as a stripped ASCII-folded str, or ValidationError naming `label`."""
    if isinstance(raw, bool):  # bool is an int subclass; True is never an identifier
        raise ValidationError(f"{label}格式不正确，请重新填写")
    if isinstance(raw, int):
        # Spreadsheets hand over numbers. str() of a >4300-digit int raises ValueError,
        # so bound the size before converting.
        if raw < 0 or raw.bit_length() > 128:
            raise ValidationError(f"{label}格式不正确，请重新填写")
        raw = str(raw)
    if not isinstance(raw, str):
        raise ValidationError(f"{label}应填写为文字，请重新填写")
    if len(raw) > _MAX_INPUT:
        raise ValidationError(f"{label}过长，请检查是否粘贴了多余内容")
    text = raw.translate(_FULLWIDTH).strip()
    if not text:
        raise ValidationError(f"请填写{label}")
    return text


def _squeeze(text: str, drop: str = "") -> str:
    """Remove all whitespace (including inner) and the characters in `drop`."""
    return "".join(ch for ch in "".join(text.split()) if ch not in drop)


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


# --- telephone numbers ----------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Area codes: 010 and 02X are two digits after the 0; every other one is three.
_LANDLINE = re.compile(
    r"(?P<area>0(?:10|2[0-9]|[3-9][0-9]{2}))-?(?P<number>[1-9][0-9]{6,7})"
    r"(?:(?:-|转)(?P<ext>[0-9]{1,6}))?"
)
_MOBILE_MSG = "手机号码应为11位数字，以1开头"


def parse_phone(raw: Any) -> str:
    """A mobile as 11 digits, or a landline as `0512-65221234` (plus `-ext`)."""
    text = _strip_country_code(_squeeze(_text(raw, "电话号码"), "()（）").replace("—", "-"))
    digits = text.replace("-", "")
    if digits.startswith("1"):
        if not _MOBILE.fullmatch(digits):
            raise ValidationError(_MOBILE_MSG)
        return digits
    if not digits.startswith("0"):
        if re.fullmatch(r"[0-9]{7,8}", digits):
            raise ValidationError("固定电话请加区号，如0512-65221234")
        raise ValidationError("请填写11位手机号码或带区号的固定电话，如0512-65221234")
    # Try the dashes as typed first (they may mark an extension), then ignore them
    # (people also group the number itself: 0512-6522-1234).
    match = _LANDLINE.fullmatch(text) or _LANDLINE.fullmatch(digits)
    if not match:
        raise ValidationError("固定电话格式不正确：区号3至4位，号码7至8位，如0512-65221234")
    ext = f"-{match['ext']}" if match["ext"] else ""
    return f"{match['area']}-{match['number']}{ext}"


def _strip_country_code(text: str) -> str:
    """Drop +86 / 0086 (and a bare 86 before a mobile); restore a landline's trunk 0."""
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            rest = text.removeprefix(prefix).lstrip("-")
            if rest.startswith("0") or _MOBILE.fullmatch(rest.replace("-", "")):
                return rest
            return "0" + rest  # international form drops the area code's 0: +86 512 …
    if re.fullmatch(r"86-?1[0-9]{10}", text):
        return text[2:].lstrip("-")
    return text


# --- coordinates --------------------------------------------------------------------------

_LAT_KEYS = ("lat", "latitude")
_LNG_KEYS = ("lng", "lon", "longitude")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_GEO_SHAPE = "坐标应为“纬度,经度”，如 31.3,120.6"
CHINA_MESSAGE = "坐标不在中国境内，请检查经纬度是否填反"


def parse_geo(raw: Any) -> tuple[float, float]:
    """(lat, lng) in WGS84 degrees from a dict, a [lat, lng] pair or a "lat,lng" string."""
    lat_raw, lng_raw = _geo_parts(raw)
    lat, lng = _coordinate(lat_raw, "纬度"), _coordinate(lng_raw, "经度")
    swapped_hint = "，请检查经纬度是否填反" if abs(lng) <= 90 else ""
    if not -90 <= lat <= 90:
        raise ValidationError(f"纬度应在-90到90之间{swapped_hint}")
    if not -180 <= lng <= 180:
        raise ValidationError("经度应在-180到180之间")
    return lat, lng


def _geo_parts(raw: Any) -> tuple[Any, Any]:
    if isinstance(raw, dict):
        lat = next((raw[k] for k in _LAT_KEYS if k in raw), None)
        lng = next((raw[k] for k in _LNG_KEYS if k in raw), None)
        if lat is None or lng is None:
            raise ValidationError("坐标缺少纬度（lat）或经度（lng）")
        return lat, lng
    if isinstance(raw, list | tuple):
        if len(raw) != 2:
            raise ValidationError("坐标应为[纬度, 经度]两个数")
        return raw[0], raw[1]
    parts = re.split(r"[,，\s]+", _text(raw, "坐标"))
    if len(parts) != 2:
        raise ValidationError(_GEO_SHAPE)
    return parts[0], parts[1]


def _coordinate(value: Any, label: str) -> float:
    """A finite float from a number or a plain decimal string."""
    if isinstance(value, str):
        value = value.translate(_FULLWIDTH).strip()
        # float() would also take "1_0", "nan", "1e400"; only plain decimals are coordinates.
        if len(value) > 40 or not _DECIMAL.fullmatch(value):
            raise ValidationError(f"{label}应为数字，如 31.3")
    elif isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise ValidationError(f"{label}应为数字，如 31.3")
    try:
        number = float(value)
    except (ValueError, TypeError, OverflowError):  # e.g. Decimal('sNaN'), 10**400
        raise ValidationError(f"{label}应为有限的数字") from None
    if not math.isfinite(number):
        raise ValidationError(f"{label}应为有限的数字")
    return number


def in_china(lat: float, lng: float) -> bool:
    """Rough bounding box of China; callers reject outside points with CHINA_MESSAGE."""
    try:
        return 3.8 <= lat <= 53.6 and 73.5 <= lng <= 135.1
    except TypeError:
        return False


# --- GCJ-02 ("Mars coordinates") used by Chinese map providers ----------------------------

# Krasovsky 1940 ellipsoid, which the GCJ-02 formula is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """WGS84 to GCJ-02 by the published offset formula; unchanged outside China."""
    if not in_china(lat, lng):
        return lat, lng
    dlat, dlng = _gcj_offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 to WGS84 by fixed-point iteration on the forward formula (to < 1e-7°)."""
    if not in_china(lat, lng):
        return lat, lng
    wgs_lat, wgs_lng = lat, lng
    for _ in range(30):  # converges in a handful of steps; the cap guards edge cases
        gcj_lat, gcj_lng = wgs84_to_gcj02(wgs_lat, wgs_lng)
        err_lat, err_lng = gcj_lat - lat, gcj_lng - lng
        if abs(err_lat) < 1e-9 and abs(err_lng) < 1e-9:
            break
        wgs_lat, wgs_lng = wgs_lat - err_lat, wgs_lng - err_lng
    return wgs_lat, wgs_lng


def _gcj_offset(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    shared = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += shared + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += shared + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    dlng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    dlat = dlat * 180.0 / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    dlng = dlng * 180.0 / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return dlat, dlng


# --- masking for display ------------------------------------------------------------------


def mask_id_card(value: Any) -> str:
    """Keep the area code and the last 4: 110105********002X. Never raises."""
    text = _mask_text(value).upper()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value: Any) -> str:
    """138****5678, or 0512-******34 for a landline (extension dropped). Never raises."""
    try:
        phone = parse_phone(value)
    except ValidationError:
        return "*" * len(_mask_text(value))  # unparseable: show nothing of it
    if phone.startswith("1"):
        return phone[:3] + "****" + phone[-4:]
    area, number = phone.split("-")[:2]
    return f"{area}-{'*' * (len(number) - 2)}{number[-2:]}"


# Compound surnames keep both characters (欧阳娜娜 → 欧阳**) so the surname stays readable.
_SURNAME_PAIRS = (
    "欧阳司马上官诸葛东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐"
    "南宫西门端木独孤呼延澹台申屠万俟闻人赫连钟离百里东郭太史"
)
_COMPOUND_SURNAMES = frozenset(_SURNAME_PAIRS[i : i + 2] for i in range(0, len(_SURNAME_PAIRS), 2))


def mask_name(name: Any) -> str:
    """张* / 欧阳** / 买**·**: keep the surname and name separators. Never raises."""
    text = _mask_text(name)
    keep = 2 if text[:2] in _COMPOUND_SURNAMES and len(text) > 2 else 1
    if len(text) <= 1:
        return "*" * len(text)  # a one-character name would be shown whole
    return text[:keep] + "".join(c if c in "·•" else "*" for c in text[keep:])


def _mask_text(value: Any) -> str:
    try:
        return "".join(_text(value, "").split())
    except ValidationError:
        return ""
