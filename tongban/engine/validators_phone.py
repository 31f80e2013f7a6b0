"""Telephone numbers typed by people: mobile or landline with area code; see
`tongban.engine.validators`."""

from __future__ import annotations

import re
from typing import Any

from tongban.engine.validators_base import ValidationError, _squeeze, _text

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
