"""Writing the .xlsx files we hand out: exports and rejected rows (`write_rows`),
empty registry templates (`write_template`), and `as_text` for how a raw cell value
reads back to a person. openpyxl writes every one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tongban.registry.xlsx_read import CellError, Formula

_HEADER_FONT = Font(bold=True)
_REQUIRED_FONT = Font(bold=True, color="B3261E")
_HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")


def clean(value: Any) -> Any:
    """A value openpyxl can write: control characters removed from text."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _text_cell(ws, value: Any) -> Any:
    """Text beginning with "=" stays text: openpyxl would otherwise write a formula, and
    a value someone typed must never run in the next reader's Excel."""
    value = clean(value)
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"
        return cell
    return value


def write_rows(
    out: IO[bytes] | str | Path,
    sheet_title: str,
    headers: list[str],
    rows: Iterable[list[Any]],
    *,
    widths: list[int] | None = None,
) -> int:
    """A one-sheet workbook: a bold header row and the rows; returns how many rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title[:31])
    for i, width in enumerate(widths or []):
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    ws.freeze_panes = "A2"
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, h)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header_cells.append(cell)
    ws.append(header_cells)
    count = 0
    for row in rows:
        ws.append([_text_cell(ws, v) for v in row])
        count += 1
    wb.save(out)
    return count


@dataclass(frozen=True)
class TemplateColumn:
    header: str
    required: bool
    text: bool  # formatted as text so Excel keeps ID numbers and phones intact
    choices: tuple[str, ...]
    description: str
    width: int


def write_template(
    out: IO[bytes] | str | Path,
    sheet_title: str,
    columns: list[TemplateColumn],
    notes: list[str],
) -> None:
    """An empty registry sheet (required headers in red, drop-downs for choices, text
    format where Excel would mangle numbers) and a 填写说明 sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title[:31]
    last_row = 10_001
    for i, col in enumerate(columns, 1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=col.header)
        cell.font = _REQUIRED_FONT if col.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        cell.comment = Comment(("必填。" if col.required else "") + col.description, "通办")
        ws.column_dimensions[letter].width = col.width
        if col.text:
            ws.column_dimensions[letter].number_format = "@"
        if col.choices and len(",".join(col.choices)) < 250:  # Excel's list limit
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(col.choices) + '"',
                allow_blank=not col.required,
                showErrorMessage=False,  # multi-value cells hold several choices
            )
            dv.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    guide = wb.create_sheet("填写说明")
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 90
    guide.append(["列名", "是否必填", "说明"])
    for cell in guide[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for col in columns:
        guide.append([col.header, "必填" if col.required else "", col.description])
    guide.append([])
    for note in notes:
        guide.append([note])
    wb.save(out)


def as_text(value: Any) -> str:
    """How a raw cell value reads back to a person (for rejected-row files)."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        return "=" + value.text
    if isinstance(value, CellError):
        return value.code
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else f"{value:%Y-%m-%d}"
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
