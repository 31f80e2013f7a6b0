"""Reading a demand file (xlsx or csv): one row per site × shift × role with a count.

Headers (any order, in the first 10 rows): 站点 (the place's name in the registry),
班次 (``2022-04-10 上午``), 岗位 (a skill, e.g. 信息录入; ``不限`` takes anyone), 人数;
optional 站点类型 when two places share a name. Every row is checked and every problem
names the row and column (``第 4 行 D 列（人数）：应为正整数``); the caller writes nothing
unless there is none. xlsx goes through the registry's guarded reader (size, zip bombs,
formulas, error values); csv is UTF-8 (with or without BOM) or GB18030 as Excel saves it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from tongban.dispatch.shifts import ShiftError, normalise_shift
from tongban.registry import xlsx

MAX_ROWS = 20_000
HEADERS = {
    "站点": "place",
    "班次": "shift",
    "岗位": "role",
    "人数": "count",
    "站点类型": "place_type",
}
REQUIRED = ("place", "shift", "role", "count")
LABEL = {v: k for k, v in HEADERS.items()}
ALIASES = {"场所": "place", "站点名称": "place", "需求人数": "count", "类型": "place_type"}


@dataclass(frozen=True)
class DemandRow:
    row: int
    place: str
    shift: str
    role: str
    count: int
    place_type: str = ""


@dataclass(frozen=True)
class FileProblem:
    row: int | None  # None: the file as a whole
    column: str = ""  # the header, e.g. 人数
    letter: str = ""  # the column letter, e.g. D
    reason: str = ""

    @property
    def text(self) -> str:
        if self.row is None:
            return self.reason
        where = f"第 {self.row} 行"
        if self.column:
            where += f" {self.letter} 列（{self.column}）" if self.letter else f"（{self.column}）"
        return f"{where}：{self.reason}"


class DemandFileError(ValueError):
    """The file has problems; ``problems`` lists them all (for people)."""

    def __init__(self, problems: list[FileProblem]):
        super().__init__("\n".join(p.text for p in problems))
        self.problems = problems


def _rows_xlsx(path: Path):
    try:
        with xlsx.SheetReader(path, max_rows=MAX_ROWS) as book:
            yield from book.rows()
    except xlsx.FileRejected as exc:
        raise DemandFileError([FileProblem(None, reason=exc.reason)]) from None


def _rows_csv(path: Path):
    raw = path.read_bytes()
    if len(raw) > 5 * 1024 * 1024:
        raise DemandFileError([FileProblem(None, reason="CSV 文件超过 5 MB，请拆分")])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DemandFileError([FileProblem(None, reason="无法识别文件编码，请另存为 UTF-8 CSV")])
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if n > MAX_ROWS:
            raise DemandFileError([FileProblem(None, reason=f"超过 {MAX_ROWS} 行，请拆分")])
        cells = {i: v for i, v in enumerate(row) if v.strip()}
        if cells:
            yield n, cells


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_demand_file(path: str | Path, name: str | None = None) -> list[DemandRow]:
    """The rows of a demand file; DemandFileError with every problem otherwise."""
    path = Path(path)
    suffix = Path(name or path.name).suffix.lower()
    if suffix == ".xlsx":
        rows = _rows_xlsx(path)
    elif suffix == ".csv":
        rows = _rows_csv(path)
    else:
        raise DemandFileError([FileProblem(None, reason="只接受 .xlsx 或 .csv 文件")])
    columns: dict[int, str] | None = None
    problems: list[FileProblem] = []
    out: list[DemandRow] = []
    seen: dict[tuple, int] = {}
    for n, cells in rows:
        if columns is None:
            found = {
                i: HEADERS.get(_text(v)) or ALIASES.get(_text(v))
                for i, v in cells.items()
                if HEADERS.get(_text(v)) or ALIASES.get(_text(v))
            }
            if set(REQUIRED) <= set(found.values()):
                columns = found
            elif n >= 10:
                break
            continue
        rec: dict[str, str] = {}
        bad = False
        for i, key in columns.items():
            value = cells.get(i)
            letter = xlsx.column_letter(i)

            def problem(reason: str, n=n, key=key, letter=letter) -> None:
                problems.append(FileProblem(n, LABEL[key], letter, reason))

            if isinstance(value, xlsx.Formula):
                problem("单元格含有公式，请改为数值后再导入")
                bad = True
                continue
            if isinstance(value, xlsx.CellError):
                problem(f"单元格是错误值 {value.code}")
                bad = True
                continue
            text = "" if value is None else _text(value)
            if not text and key in REQUIRED:
                problem("不能为空")
                bad = True
                continue
            if key == "shift":
                try:
                    text = normalise_shift(text)
                except ShiftError as exc:
                    problem(str(exc))
                    bad = True
                    continue
            elif key == "count":
                if not text.isdigit() or int(text) < 1 or int(text) > 10_000:
                    problem("应为 1 到 10000 之间的整数")
                    bad = True
                    continue
            elif len(text) > (100 if key == "place" else 40):
                problem("内容过长")
                bad = True
                continue
            rec[key] = text
        if bad:
            continue
        key = (rec["place"], rec.get("place_type", ""), rec["shift"], rec["role"])
        if key in seen:
            problems.append(
                FileProblem(n, "", "", f"与第 {seen[key]} 行重复（同一站点、班次、岗位只能填一行）")
            )
            continue
        seen[key] = n
        out.append(
            DemandRow(
                n,
                rec["place"],
                rec["shift"],
                rec["role"],
                int(rec["count"]),
                rec.get("place_type", ""),
            )
        )
    if columns is None:
        missing = "、".join(LABEL[k] for k in REQUIRED)
        raise DemandFileError(
            [FileProblem(None, reason=f"前 10 行中没有找到表头（需要：{missing}）")]
        )
    if problems:
        raise DemandFileError(problems)
    if not out:
        raise DemandFileError([FileProblem(None, reason="文件中没有需求行")])
    return out


def write_demand_template(out) -> None:
    """A blank demand file with the headers and one example row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "排班需求"
    ws.append(["站点", "班次", "岗位", "人数", "站点类型"])
    ws.append(["湘城社区核酸采样点", "2022-04-10 上午", "信息录入", 2, "核酸采样点"])
    for col, width in zip("ABCDE", (28, 18, 14, 8, 14), strict=True):
        ws.column_dimensions[col].width = width
    wb.save(out)
