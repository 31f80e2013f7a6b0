"""Field types: turn what someone typed into a clean, JSON-ready value, or say what is wrong.

`validate_fields` never raises for bad input: it returns the clean values and a map of
field key → Chinese message. Values are JSON-native (dates as ISO strings) so they can be
stored, hashed into the event chain and compared without conversion.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tongban.engine import validators as v
from tongban.engine.schema import FieldSpec

TZ = ZoneInfo("Asia/Shanghai")
_TRUE = {True, "true", "1", "on", "yes", "是", "同意"}
_FALSE = {False, "false", "0", "off", "no", "否", "", None}


class FieldError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == [] or raw == {}


def _text(f: FieldSpec, raw: Any) -> str:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise FieldError("应为文字")
    text = str(raw).strip()
    if "\x00" in text:
        raise FieldError("含有不允许的控制字符")
    limit = f.max_length or (2000 if f.type == "textarea" else 200)
    if len(text) > limit:
        raise FieldError(f"最多 {limit} 个字，现在 {len(text)} 个字")
    if f.min_length and len(text) < f.min_length:
        raise FieldError(f"至少 {f.min_length} 个字")
    return text


def _number(f: FieldSpec, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise FieldError("应为数字")
    if isinstance(raw, str):
        raw = raw.strip().replace(",", "").replace("，", "")
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise FieldError("应为数字") from None
    if not math.isfinite(value):
        raise FieldError("应为有限的数字")
    unit = f.unit or ""
    if f.integer and value != int(value):
        raise FieldError("应为整数")
    if value == int(value) and abs(value) < 2**53:
        value = int(value)  # 30, not 30.0: what was typed is what is shown and stored
    if f.min is not None and value < f.min:
        raise FieldError(f"不能小于 {f.min:g}{unit}")
    if f.max is not None and value > f.max:
        raise FieldError(f"不能大于 {f.max:g}{unit}")
    return value


def _date(f: FieldSpec, raw: Any) -> str:
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return raw.isoformat()
    if not isinstance(raw, str):
        raise FieldError("应为日期，格式如 2026-03-01")
    text = raw.strip().replace("/", "-").replace(".", "-")
    for ch, rep in (("年", "-"), ("月", "-"), ("日", "")):
        text = text.replace(ch, rep)
    try:
        return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-"))).isoformat()
    except ValueError:
        raise FieldError("日期格式不对，应为 2026-03-01") from None


def _datetime(f: FieldSpec, raw: Any) -> str:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip().replace("/", "-"))
        except ValueError:
            raise FieldError("时间格式不对，应为 2026-03-01 08:30") from None
    else:
        raise FieldError("应为日期时间，格式如 2026-03-01 08:30")
    if value.tzinfo is None:
        value = value.replace(tzinfo=TZ)
    return value.astimezone(TZ).isoformat(timespec="minutes")


def _choice(f: FieldSpec, raw: Any) -> str:
    if not isinstance(raw, str) or raw.strip() not in f.options:
        raise FieldError(f"请从以下选项中选择：{'、'.join(f.options)}")
    return raw.strip()


def _multichoice(f: FieldSpec, raw: Any) -> list[str]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise FieldError("应为选项列表")
    bad = [x for x in items if not isinstance(x, str) or x not in f.options]
    if bad:
        raise FieldError(f"无效的选项；可选：{'、'.join(f.options)}")
    return [o for o in f.options if o in items]


def _boolean(f: FieldSpec, raw: Any) -> bool:
    key = raw.strip().lower() if isinstance(raw, str) else raw
    try:
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    except TypeError:
        pass
    raise FieldError("应为 是 或 否")


def _commitment(f: FieldSpec, raw: Any) -> dict[str, Any]:
    # The exact text accepted is kept with the case: if the catalog text changes later,
    # what this applicant promised does not.
    accepted = raw.get("accepted") if isinstance(raw, Mapping) else raw
    if _boolean(f, accepted) is not True:
        raise FieldError("请阅读并勾选承诺")
    return {"accepted": True, "text": f.text}


def _file(f: FieldSpec, raw: Any) -> str:
    # A material reference is the sha256 of an uploaded file (content-addressed store).
    if not isinstance(raw, str) or len(raw) != 64 or any(c not in "0123456789abcdef" for c in raw):
        raise FieldError("请上传文件")
    return raw


def _wrap(parser: Callable[..., Any]) -> Callable[[FieldSpec, Any], Any]:
    def parse(f: FieldSpec, raw: Any) -> Any:
        try:
            return parser(raw)
        except v.ValidationError as exc:
            raise FieldError(exc.message) from None

    return parse


def _id_card(f: FieldSpec, raw: Any) -> str:
    try:
        return v.parse_id_card(raw, allow_legacy=f.allow_legacy)
    except v.ValidationError as exc:
        raise FieldError(exc.message) from None


def _geo(f: FieldSpec, raw: Any) -> dict[str, float]:
    try:
        lat, lng = v.parse_geo(raw)
    except v.ValidationError as exc:
        raise FieldError(exc.message) from None
    if not v.in_china(lat, lng):
        raise FieldError("坐标不在中国境内，请检查经纬度是否填反")
    return {"lat": round(lat, 7), "lng": round(lng, 7)}


def _table(f: FieldSpec, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list | tuple):
        raise FieldError("应为若干行")
    if len(raw) < max(f.min_rows, 1 if f.required else 0):
        raise FieldError(f"至少填写 {max(f.min_rows, 1)} 行")
    if len(raw) > f.max_rows:
        raise FieldError(f"最多 {f.max_rows} 行")
    rows, problems = [], []
    for i, row in enumerate(raw, 1):
        if not isinstance(row, Mapping):
            problems.append(f"第{i}行格式不对")
            continue
        clean, errs = validate_fields(f.fields, row)
        rows.append(clean)
        problems.extend(f"第{i}行 {_label(f.fields, k)}：{m}" for k, m in errs.items())
    if problems:
        raise FieldError("；".join(problems))
    return rows


# One row's problem as a table's error states it (here and in engine.bundles, which adds
# the refusing item's name): 「复工企业员工通行证」第3行 员工身份证号码：校验位不正确;
# several are joined by "；".
_ROW_PROBLEM = re.compile(r"^(?:「[^」]*」)?第(?P<row>\d+)行 (?P<rest>.+)$")


def row_problems(error: str) -> list[tuple[int, str]]:
    """(row number from 1, "label：message") for each per-row problem in a table's error,
    so a form can show each one at its cell as well as above the table."""
    found = []
    for problem in error.split("；"):
        m = _ROW_PROBLEM.match(problem)
        if m is not None:
            found.append((int(m["row"]), m["rest"]))
    return found


def _label(fields: Sequence[FieldSpec], key: str) -> str:
    return next((f.label for f in fields if f.key == key), key)


PARSERS: dict[str, Callable[[FieldSpec, Any], Any]] = {
    "text": _text,
    "textarea": _text,
    "address": _text,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "choice": _choice,
    "multichoice": _multichoice,
    "boolean": _boolean,
    "phone": _wrap(v.parse_phone),
    "id_card": _id_card,
    "uscc": _wrap(v.parse_uscc),
    "plate": _wrap(v.parse_plate),
    "geo": _geo,
    "commitment": _commitment,
    "file": _file,
    "table": _table,
}


def validate_field(f: FieldSpec, raw: Any) -> Any:
    """The clean value of one field (None when blank and optional), or FieldError."""
    if _blank(raw):
        if f.required:
            messages = {"file": "请上传文件", "boolean": "请选择是或否"}
            raise FieldError(messages.get(f.type, "必填"))
        return None  # not answered: not stored (an unanswered yes/no is not a "no")
    try:
        return PARSERS[f.type](f, raw)
    except FieldError:
        raise
    except (TypeError, ValueError, AttributeError, OverflowError, RecursionError):
        # Whatever odd shape arrived (a dict where text was expected, …) is the user's
        # input being wrong, never a crash.
        raise FieldError("格式不对") from None


def validate_fields(
    fields: Sequence[FieldSpec], raw: Mapping[str, Any] | Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate every field; return (clean values, {key: message}). Unknown keys are dropped."""
    if not isinstance(raw, Mapping):
        return {}, {"__all__": "提交的内容格式不对"}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        try:
            value = validate_field(f, raw.get(f.key))
        except FieldError as exc:
            errors[f.key] = exc.message
            continue
        if value is not None:
            clean[f.key] = value
    return clean, errors
