"""Helpers for registry tests: valid identifiers and spreadsheets built in a few lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tongban.engine.validators import id_check_digit, uscc_check_digit
from tongban.registry.kinds import KINDS

GRID = "32050710300101"  # 湘城社区第一网格, 阳澄湖镇, 相城区
GRID_NAME = "湘城社区第一网格"
OTHER_GRID = "32050710300201"  # 消泾村第一网格, same street
CANGLANG_GRID = "32050800300101"  # 南门社区第一网格, 沧浪街道, 姑苏区


def id_number(n: int, area: str = "320507") -> str:
    """The n-th valid resident ID number (distinct for n < 10 000 000)."""
    year, rest = 1950 + n % 50, n // 50
    day = 1 + rest % 28
    month = 1 + (rest // 28) % 12
    seq = (rest // 336) % 1000
    first17 = f"{area}{year}{month:02d}{day:02d}{seq:03d}"
    return first17 + id_check_digit(first17)


def bad_check_digit(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def credit_code(n: int) -> str:
    first17 = f"91320507{n:09d}"
    return first17 + uscc_check_digit(first17)


def headers(kind: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    return [c.header for c in KINDS[kind].columns if c.key not in skip]


def person_row(n: int, **over: Any) -> dict[str, Any]:
    row = {
        "姓名": f"居民{n}",
        "身份证号码": id_number(n),
        "联系电话": f"139{n:08d}",
        "居住地址": f"湘城大街{n}号",
        "所属网格/社区": GRID,
        "人员标签": "党员、志愿者" if n % 2 else "独居老人",
        "健康标签": "",
        "备注": "",
    }
    row.update(over)
    return row


def write(
    path: Path,
    header: list[str],
    rows: list[dict[str, Any] | list[Any]],
    *,
    write_only: bool = False,
    before: list[list[Any]] | None = None,
) -> Path:
    """An xlsx with `header` then `rows` (dicts by header, or lists). write_only files
    use inline strings; normal ones use the shared-string table, as Excel does."""
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("Sheet1") if write_only else wb.active
    for line in before or []:
        ws.append(line)
    ws.append(header)
    for row in rows:
        ws.append([row.get(h) for h in header] if isinstance(row, dict) else row)
    wb.save(path)
    return path


def persons(path: Path, n: int, start: int = 1, **kw) -> Path:
    return write(path, headers("person"), [person_row(i) for i in range(start, start + n)], **kw)


SAMPLES: dict[str, dict[str, Any]] = {
    "person": person_row(1, 人员标签="独居老人、残障"),
    "enterprise": {
        "名称": "苏州阳澄湖农产品有限公司",
        "统一社会信用代码": credit_code(1),
        "主体类型": "企业",
        "行业": "农副食品加工",
        "从业人数": 28,
        "联系电话": "0512-65221234",
        "所属网格/社区": GRID,
    },
    "vehicle": {
        "车牌号码": "苏E·D12345",
        "车辆类型": "冷藏车",
        "所有人": "苏州阳澄湖农产品有限公司",
        "所属企业信用代码": credit_code(1),
        "联系电话": "13912345678",
        "所属网格/社区": GRID,
    },
    "driver": {
        "姓名": "王师傅",
        "身份证号码": id_number(7),
        "联系电话": "13912345679",
        "准驾车型": "A2",
        "常驾车辆": "苏ED12345",
        "所属网格/社区": GRID,
    },
    "rider": {
        "姓名": "小李",
        "身份证号码": id_number(8),
        "联系电话": "13912345670",
        "从业类型": "外卖骑手",
        "平台": "美团",
        "站点": "湘城站",
        "是否党员": "是",
        "所属网格/社区": GRID_NAME,
    },
    "place": {
        "名称": "湘城党群服务中心",
        "类型": "党群服务中心",
        "纬度": 31.4386,
        "经度": 120.7124,
        "容纳人数": 40,
        "服务设施": "饮水、书架、充电",
        "开放时间": "每天 8:00-20:00",
        "所属网格/社区": GRID,
    },
    "volunteer": {
        "姓名": "陈志愿",
        "身份证号码": id_number(9),
        "联系电话": "13912345671",
        "技能": "驾驶、医护",
        "可服务时间": "周末、节假日",
        "居住地纬度": 31.44,
        "居住地经度": 120.71,
        "所属网格/社区": GRID,
    },
}
