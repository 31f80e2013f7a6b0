"""Reading a registry spreadsheet: find the header row, check every row, collect problems.

`check_file` reads the whole file before anything is written, so the service layer can
refuse a file with any bad row (nothing imported) or, when asked, import only the good
rows and hand the rejected ones back with a reason column (`write_rejected`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tongban.registry import xlsx
from tongban.registry.kinds import ORG, Column, Kind
from tongban.registry.validate import OrgRef, RowContext, is_blank, validate_row

HEADER_SEARCH_ROWS = 10
REASON_HEADER = "错误原因"
ROW_HEADER = "原行号"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """One reason a row (or, with row None, the whole file) cannot be imported."""

    row: int | None  # the row number Excel shows
    column: str  # header(s), e.g. 身份证号码 or 纬度/经度; "" for the whole row or file
    letter: str  # column letter(s), e.g. C or D/E
    reason: str

    def text(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        if self.column:
            where += f" {self.letter} 列（{self.column}）" if self.letter else f"（{self.column}）"
        return f"{where}：{self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "letter": self.letter,
            "reason": self.reason,
        }


@dataclass
class Checked:
    """Everything read from one file, before anything is written."""

    kind: Kind
    header_row: int = 0
    columns: dict[str, int] = field(default_factory=dict)  # key → 0-based column index
    records: dict[int, dict[str, Any]] = field(default_factory=dict)  # row → values
    problems: list[Problem] = field(default_factory=list)
    rejected: dict[int, dict[str, Any]] = field(default_factory=dict)  # row → raw cells
    rows: int = 0  # data rows read (blank rows skipped)
    fatal: bool = False  # a problem with the file itself: nothing can be imported

    @property
    def present(self) -> frozenset[str]:
        """Column keys the file has: columns it lacks are left as they are on update."""
        return frozenset(self.columns)

    def reject(self, row: int, keys: Iterable[str], reason: str) -> None:
        """Turn a checked record into a rejected one (e.g. its key belongs elsewhere)."""
        values = self.records.pop(row, None)
        if values is not None:
            self.rejected[row] = {k: _display(v) for k, v in values.items()}
        self.problems.append(self._problem(row, tuple(keys), reason))

    def _problem(self, row: int | None, keys: tuple[str, ...], reason: str) -> Problem:
        cols = [self.kind.column(k) for k in keys if k in self.kind.by_key]
        return Problem(
            row,
            "/".join(c.header for c in cols),
            "/".join(
                xlsx.column_letter(self.columns[c.key]) for c in cols if c.key in self.columns
            ),
            reason,
        )


def natural_key(kind: Kind, values: dict[str, Any]) -> tuple:
    return tuple(values[k].id if k == ORG else values[k] for k in kind.natural_key)


def normalise_header(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    text = "".join(value.translate(_FULLWIDTH).split())
    text = re.sub(r"[（(]必填[）)]$", "", text).rstrip("*＊")
    return text.replace("(", "（").replace(")", "）")


_FULLWIDTH = {0xFF0A: 0x2A}  # ＊ → *


def check_file(
    kind: Kind, path: str | Path, ctx: RowContext, progress: Progress | None = None
) -> Checked:
    """Read and check every row of the file's first sheet."""
    checked = Checked(kind)
    try:
        with xlsx.SheetReader(path) as reader:
            _check_rows(checked, reader, ctx, progress)
    except xlsx.FileRejected as exc:
        checked.fatal = True
        checked.records.clear()
        checked.problems.append(Problem(None, "", "", exc.reason))
    return checked


def _check_rows(checked: Checked, reader: xlsx.SheetReader, ctx: RowContext, progress) -> None:
    kind = checked.kind
    rows = reader.rows()
    searched: list[tuple[int, dict[int, Any]]] = []
    for number, cells in rows:
        searched.append((number, cells))
        if _header_map(kind, cells)[0] >= 2 or len(searched) >= HEADER_SEARCH_ROWS:
            break
    best = max(searched, key=lambda r: _header_map(kind, r[1])[0], default=None)
    if best is None or _header_map(kind, best[1])[0] < 2:
        checked.fatal = True
        row = best[0] if best else 1
        checked.problems.append(
            Problem(
                row,
                "",
                "",
                f"找不到表头行：前 {HEADER_SEARCH_ROWS} 行中没有“{kind.headers[0]}”“"
                f"{kind.headers[1]}”等列名，请使用下载的模板",
            )
        )
        return
    checked.header_row = best[0]
    found, columns, duplicates = _header_map(kind, best[1])
    checked.columns = columns
    for key, (first, second) in duplicates.items():
        checked.fatal = True
        checked.problems.append(
            Problem(
                checked.header_row,
                kind.column(key).header,
                f"{xlsx.column_letter(first)}/{xlsx.column_letter(second)}",
                "表头中该列出现了两次，请删除多余的一列",
            )
        )
    for col in _missing(kind, columns):
        checked.fatal = True
        reason = f"缺少必填列“{col.header}”，请从模板复制表头"
        if col.type in ("lat", "lng"):
            reason = f"缺少列“{col.header}”：纬度和经度两列需同时提供"
        checked.problems.append(Problem(checked.header_row, col.header, "", reason))
    if checked.fatal:
        return
    # Rows above the header (a title, say) are ignored; rows below it are data.
    pending = [(n, c) for n, c in searched if n > checked.header_row]
    seen: dict[tuple, int] = {}
    step = 1000
    for number, cells in _chain(pending, rows):
        raw = {key: cells.get(index) for key, index in columns.items()}
        if all(is_blank(value) for value in raw.values()):
            continue
        checked.rows += 1
        result = validate_row(kind, raw, ctx)
        if result.ok:
            key = natural_key(kind, result.values)
            first = seen.get(key)
            if first is None:
                seen[key] = number
                checked.records[number] = result.values
            else:
                checked.rejected[number] = raw
                checked.problems.append(
                    checked._problem(
                        number,
                        kind.natural_key,
                        f"与第 {first} 行重复（{kind.key_headers}相同），"
                        "同一文件中每条记录只能出现一次",
                    )
                )
        else:
            checked.rejected[number] = raw
            for p in result.problems:
                checked.problems.append(checked._problem(number, p.keys, p.reason))
        if progress is not None and checked.rows % step == 0:
            ratio = reader.bytes_read / reader.bytes_total
            estimate = round(checked.rows / ratio) if ratio else checked.rows
            progress(checked.rows, max(estimate, checked.rows))
    if progress is not None:
        progress(checked.rows, checked.rows)


def _chain(first: list, rest: Iterable) -> Iterable:
    yield from first
    yield from rest


def _header_map(kind: Kind, cells: dict[int, Any]):
    by_header = {c.header: c.key for c in kind.columns}
    columns: dict[str, int] = {}
    duplicates: dict[str, tuple[int, int]] = {}
    for index in sorted(cells):
        key = by_header.get(normalise_header(cells[index]))
        if key is None:
            continue
        if key in columns:
            duplicates.setdefault(key, (columns[key], index))
        else:
            columns[key] = index
    return len(columns), columns, duplicates


def _missing(kind: Kind, columns: dict[str, int]) -> list[Column]:
    missing = [c for c in kind.columns if c.required and c.key not in columns]
    if kind.geo:
        lat, lng = kind.geo
        if (lat in columns) != (lng in columns):
            missing.append(kind.column(lng if lat in columns else lat))
    return missing


def _display(value: Any) -> Any:
    if isinstance(value, OrgRef):
        return value.label()
    return value


def write_rejected(checked: Checked, out: IO[bytes] | str | Path) -> int:
    """The rejected rows as the user sent them, plus the original row number and a reason
    column: fix them and import this same file again (the two extra columns are ignored)."""
    kind = checked.kind
    cols = [c for c in kind.columns if c.key in checked.columns]
    reasons: dict[int, list[str]] = {}
    for p in checked.problems:
        if p.row in checked.rejected:
            where = f"{p.column}：" if p.column else ""
            reasons.setdefault(p.row, []).append(where + p.reason)

    def rows():
        for number in sorted(checked.rejected):
            raw = checked.rejected[number]
            yield [
                *(xlsx.as_text(raw.get(c.key)) for c in cols),
                number,
                "；".join(reasons.get(number, [])),
            ]

    return xlsx.write_rows(
        out,
        f"{kind.label}（未导入）",
        [c.header for c in cols] + [ROW_HEADER, REASON_HEADER],
        rows(),
        widths=[column_width(c) for c in cols] + [8, 60],
    )


def column_width(col: Column) -> int:
    if col.type in ("id_card", "uscc"):
        return 22
    if col.type in ("phone", "plate", "lat", "lng"):
        return 15
    return min(40, max(10, len(col.header) * 2 + 4))
