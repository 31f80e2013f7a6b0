"""Checking one spreadsheet row against a registry kind.

`validate_row` turns the raw cells of one row into the values to store, or into a list
of problems, each naming the column(s) and saying in Chinese what is wrong and how to
fix it. It never raises, whatever the cells hold (a property test feeds it arbitrary
values): a bad row is reported, never a crash in the middle of a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from tongban.engine import validators as v
from tongban.engine.validators import ValidationError
from tongban.registry.kinds import ORG, TAG_SEPARATOR, Column, Kind
from tongban.registry.xlsx import CellError, Formula


@dataclass(frozen=True)
class OrgRef:
    """An organisation a row may belong to, as the service layer resolved it."""

    id: int
    code: str
    name: str
    jurisdiction: Mapping[str, str]  # the j_<level> columns

    def label(self) -> str:
        return f"{self.name}（{self.code}）"


@dataclass(frozen=True)
class RowContext:
    """What a row check needs from outside: the importer's organisations and rights."""

    resolve_org: Callable[[str], OrgRef]  # raises ValidationError outside the jurisdiction
    may_write_health: Callable[[OrgRef], bool] = lambda org: False
    gcj02: bool = False  # coordinates were picked on a Chinese map app (GCJ-02)


@dataclass(frozen=True)
class RowProblem:
    keys: tuple[str, ...]  # the column(s) at fault
    reason: str


@dataclass
class RowResult:
    values: dict[str, Any] = field(default_factory=dict)  # key → value to store
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


FORMULA = "单元格含有公式，请改为直接填写内容（在 Excel 中复制该列，再“选择性粘贴 → 数值”）"
_EXCEL_NUMBER = "{label}被 Excel 当成数字保存，后几位已经丢失；请把该列设为“文本”格式后重新填写"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPLIT = re.compile(r"[、,，;；/|\s]+")
_LICENCE = re.compile(r"A1|A2|A3|B1|B2|C1|C2|C3|C4|C5|C6|D|E|F|M|N|P")
_LICENCE_CODES = "A1、A2、A3、B1、B2、C1、C2、C3、C4、C5、C6、D、E、F、M、N、P"
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "有", "党员"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "无", "非党员"}
_MAX_TEXT = 10_000  # longer cells are refused before any work is done on them


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def validate_row(kind: Kind, cells: Mapping[str, Any], ctx: RowContext) -> RowResult:
    """Values to store for one row (by column key), or the problems with it."""
    result = RowResult()
    for col in kind.columns:
        if col.type in ("lat", "lng"):
            continue  # checked as a pair below
        raw = cells.get(col.key)
        try:
            result.values[col.key] = _cell(col, raw, ctx)
        except ValidationError as exc:
            result.problems.append(RowProblem((col.key,), exc.message))
    if kind.geo:
        _geo(kind, cells, ctx, result)
    org = result.values.get(ORG)
    if org is not None:
        for col in kind.health:
            if result.values.get(col.key) and not ctx.may_write_health(org):
                reason = f"您的岗位不能填写“{col.header}”（仅卫健工作人员可以填写），请清空该列"
                result.problems.append(RowProblem((col.key,), reason))
    if result.problems:
        result.values = {}
    return result


def _cell(col: Column, raw: Any, ctx: RowContext) -> Any:
    if isinstance(raw, Formula):
        raise ValidationError(FORMULA)
    if isinstance(raw, CellError):
        raise ValidationError(f"单元格是错误值 {raw.code[:20]}，请改为直接填写内容")
    if is_blank(raw):
        if col.required:
            raise ValidationError(f"“{col.header}”为必填项，请填写")
        return _empty(col)
    convert = _CONVERTERS[col.type]
    return convert(col, raw, ctx)


def _empty(col: Column) -> Any:
    if col.type == "bool":
        return False
    if col.type in ("int", "org"):
        return None
    return ""


# --- one converter per column type -------------------------------------------------------


def _text(col: Column, raw: Any, _ctx: RowContext | None = None) -> str:
    if isinstance(raw, bool):
        text = "是" if raw else "否"
    elif isinstance(raw, int):
        if raw.bit_length() > 128:
            raise ValidationError(f"“{col.header}”的内容不正确，请重新填写")
        text = str(raw)
    elif isinstance(raw, float | Decimal):
        text = _number_text(col, raw)
    elif isinstance(raw, datetime):
        text = f"{raw:%Y-%m-%d %H:%M}" if raw.time() != time() else f"{raw:%Y-%m-%d}"
    elif isinstance(raw, date | time):
        text = raw.isoformat()
    elif isinstance(raw, str):
        if len(raw) > _MAX_TEXT:
            raise ValidationError(f"“{col.header}”超过 {col.max_length} 个字，请精简")
        text = raw
    else:
        raise ValidationError(f"“{col.header}”的内容无法识别，请填写文字")
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > col.max_length:
        raise ValidationError(f"“{col.header}”超过 {col.max_length} 个字，请精简")
    return text


def _number_text(col: Column, raw: float | Decimal) -> str:
    try:
        finite = math.isfinite(raw)
    except (ValueError, OverflowError):  # e.g. Decimal('sNaN')
        finite = False
    if not finite:
        raise ValidationError(f"“{col.header}”的内容不正确，请重新填写")
    if abs(raw) < 1e15 and raw == int(raw):
        return str(int(raw))
    return f"{raw:.15g}" if isinstance(raw, float) else str(raw)


def _identifier(col: Column, raw: Any) -> Any:
    """Numbers handed over for an identifier: exact whole numbers pass on as digits;
    a number of 16+ digits came through a float and lost its tail (Excel keeps 15)."""
    if isinstance(raw, bool):
        raise ValidationError(f"“{col.header}”格式不正确，请重新填写")
    if isinstance(raw, float | Decimal):
        try:
            finite = math.isfinite(raw)
        except (ValueError, OverflowError):
            finite = False
        if not finite or raw < 0:
            raise ValidationError(f"“{col.header}”格式不正确，请重新填写")
        if raw >= 1e15:
            raise ValidationError(_EXCEL_NUMBER.format(label=col.header))
        if raw != int(raw):
            raise ValidationError(f"“{col.header}”格式不正确，请重新填写")
        return str(int(raw))
    if isinstance(raw, datetime | date | time):
        raise ValidationError(
            f"“{col.header}”被 Excel 当成了日期，请把该列设为“文本”格式后重新填写"
        )
    if not isinstance(raw, str | int):
        raise ValidationError(f"“{col.header}”格式不正确，请重新填写")
    return raw


def _id_card(col: Column, raw: Any, _ctx: RowContext) -> str:
    return v.parse_id_card(_identifier(col, raw))


def _uscc(col: Column, raw: Any, _ctx: RowContext) -> str:
    return v.parse_uscc(_identifier(col, raw))


def _plate(col: Column, raw: Any, _ctx: RowContext) -> str:
    return v.parse_plate(_identifier(col, raw))


def _phone(col: Column, raw: Any, _ctx: RowContext) -> str:
    return v.parse_phone(_identifier(col, raw))


def _licence(col: Column, raw: Any, _ctx: RowContext) -> str:
    text = _squeeze(_text(col, raw)).upper()
    codes = _LICENCE.findall(text)
    if not codes or "".join(codes) != text:
        raise ValidationError(f"“{col.header}”应为 {_LICENCE_CODES} 中的一个或几个，如 A2D")
    return "".join(dict.fromkeys(codes))


def _int(col: Column, raw: Any, _ctx: RowContext) -> int:
    message = f"“{col.header}”应为 {col.minimum} 到 {col.maximum} 之间的整数"
    if isinstance(raw, bool):
        raise ValidationError(message)
    if isinstance(raw, float | Decimal):
        try:
            whole = math.isfinite(raw) and abs(raw) <= col.maximum and raw == int(raw)
        except (ValueError, OverflowError):
            whole = False
        if not whole:
            raise ValidationError(message)
        number = int(raw)
    elif isinstance(raw, int):
        number = raw
    elif isinstance(raw, str):
        text = _squeeze(raw[:40]).replace(",", "").removesuffix("人").removesuffix("个")
        if not re.fullmatch(r"[0-9]{1,12}", text):
            raise ValidationError(message)
        number = int(text)
    else:
        raise ValidationError(message)
    if not col.minimum <= number <= col.maximum:
        raise ValidationError(message)
    return number


def _bool(col: Column, raw: Any, _ctx: RowContext) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = _squeeze(raw[:20]).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValidationError(f"“{col.header}”请填写“是”或“否”")


def _choice(col: Column, raw: Any, _ctx: RowContext) -> str:
    text = _squeeze(_text(col, raw))
    if text not in col.choices:
        raise ValidationError(f"“{col.header}”应为以下之一：{'、'.join(col.choices)}")
    return text


def _multi(col: Column, raw: Any, _ctx: RowContext) -> str:
    items = [t for t in _SPLIT.split(_text(col, raw)) if t]
    items = list(dict.fromkeys(items))
    if col.choices:
        unknown = [t for t in items if t not in col.choices]
        if unknown:
            raise ValidationError(
                f"“{col.header}”中的“{'、'.join(unknown)[:40]}”不在可选范围内，"
                f"可选：{'、'.join(col.choices)}"
            )
        items.sort(key=col.choices.index)
    elif any(len(t) > 20 for t in items):
        raise ValidationError(f"“{col.header}”每一项不超过 20 个字，多项请用顿号分隔")
    return TAG_SEPARATOR.join(items)


def _org(col: Column, raw: Any, ctx: RowContext) -> OrgRef:
    text = _text(col, raw)
    return ctx.resolve_org(text)


_CONVERTERS: dict[str, Callable[[Column, Any, RowContext], Any]] = {
    "text": _text,
    "id_card": _id_card,
    "uscc": _uscc,
    "plate": _plate,
    "phone": _phone,
    "licence": _licence,
    "int": _int,
    "bool": _bool,
    "choice": _choice,
    "multi": _multi,
    "org": _org,
}


def _squeeze(text: str) -> str:
    return "".join(text.translate(_FULLWIDTH).split())


_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


# --- coordinates --------------------------------------------------------------------------


def _geo(kind: Kind, cells: Mapping[str, Any], ctx: RowContext, result: RowResult) -> None:
    lat_key, lng_key = kind.geo  # type: ignore[misc]
    lat_col, lng_col = kind.column(lat_key), kind.column(lng_key)
    lat_raw, lng_raw = cells.get(lat_key), cells.get(lng_key)
    for key, raw in ((lat_key, lat_raw), (lng_key, lng_raw)):
        if isinstance(raw, Formula | CellError):
            result.problems.append(RowProblem((key,), FORMULA))
            return
    if is_blank(lat_raw) and is_blank(lng_raw):
        result.values[lat_key] = result.values[lng_key] = None
        return
    if is_blank(lat_raw) or is_blank(lng_raw):
        missing = lat_col if is_blank(lat_raw) else lng_col
        reason = f"请同时填写“{lat_col.header}”和“{lng_col.header}”，缺少“{missing.header}”"
        result.problems.append(RowProblem((missing.key,), reason))
        return
    try:
        lat, lng = v.parse_geo([_coordinate(lat_raw), _coordinate(lng_raw)])
    except ValidationError as exc:
        at = lng_key if exc.message.startswith("经度") else lat_key
        result.problems.append(RowProblem((at,), exc.message))
        return
    if not v.in_china(lat, lng):
        result.problems.append(RowProblem((lat_key, lng_key), v.CHINA_MESSAGE))
        return
    if ctx.gcj02:
        lat, lng = v.gcj02_to_wgs84(lat, lng)
    result.values[lat_key], result.values[lng_key] = round(lat, 7), round(lng, 7)


def _coordinate(raw: Any) -> Any:
    """Strings shortened before parsing; whole numbers from the reader pass through."""
    if isinstance(raw, str):
        return raw.strip()[:50]
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 64:
        return float("inf")
    return raw
