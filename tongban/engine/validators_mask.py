"""Masking identifiers and names for display; never raises. See
`tongban.engine.validators`."""

from __future__ import annotations

from typing import Any

from tongban.engine.validators_base import ValidationError, _text
from tongban.engine.validators_phone import parse_phone

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
