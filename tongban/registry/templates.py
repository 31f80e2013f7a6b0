"""The empty spreadsheet a user downloads to fill in, generated from the kind."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from tongban.registry import xlsx
from tongban.registry.importing import column_width
from tongban.registry.kinds import Column, Kind

_TYPE_HELP = {
    "text": "文字",
    "id_card": "18位身份证号码，末位校验码须正确",
    "uscc": "18位统一社会信用代码，末位校验码须正确",
    "plate": "车牌号码，如 苏E12345、苏AD12345",
    "phone": "11位手机号码，或带区号的固定电话，如 0512-65221234",
    "licence": "准驾车型",
    "int": "整数",
    "bool": "填写“是”或“否”",
    "choice": "从下拉列表中选择",
    "multi": "可填多项，用顿号（、）分隔",
    "lat": "纬度，十进制度数",
    "lng": "经度，十进制度数",
    "org": "网格或社区的代码或名称",
}
_TEXT_TYPES = {"text", "id_card", "uscc", "plate", "phone", "licence", "org", "multi", "choice"}


def describe(col: Column) -> str:
    parts = [_TYPE_HELP.get(col.type, "")]
    if col.choices:
        parts.append("可选：" + "、".join(col.choices))
    if col.type == "int":
        parts.append(f"范围 {col.minimum}–{col.maximum}")
    if col.type == "text":
        parts.append(f"不超过 {col.max_length} 个字")
    if col.help:
        parts.append(col.help)
    return "；".join(p for p in parts if p)


def notes(kind: Kind) -> list[str]:
    lines = [
        "填写须知：",
        "1. 第一行是表头，请勿修改列名；红色列名为必填列。"
        "列的顺序可以调整，多余的列（如“序号”）会被忽略。",
        f"2. 以“{kind.key_headers}”识别同一条记录："
        "重复导入同一文件不会产生重复记录，已有记录会被更新。",
        "3. 请直接填写内容，不要使用公式；"
        "身份证号码、电话等请保持“文本”格式，以免 Excel 改写数字。",
        "4. 默认情况下，只要有一行有误，整个文件都不会导入，系统会列出每个错误的行、列和原因；"
        "也可以选择“只导入正确的行”，未导入的行会连同错误原因一起退回为 Excel 文件。",
        f"5. 文件不超过 {xlsx.mb(xlsx.MAX_FILE_BYTES)}，不超过 {xlsx.MAX_ROWS} 行；"
        "只读取第一个工作表。",
        "6. 只能导入您所辖范围内的网格或社区的数据。",
    ]
    if any(c.type in ("lat", "lng") for c in kind.columns):
        lines.append(
            "7. 坐标按 WGS84（GPS）填写；从高德、腾讯等国内地图拾取的坐标是 GCJ-02，"
            "导入时请勾选“坐标为 GCJ-02”，系统会自动换算（百度地图的 BD-09 坐标请先转换）。"
        )
    if kind.note:
        lines.append(kind.note)
    return lines


def write_template(kind: Kind, out: IO[bytes] | str | Path) -> None:
    columns = [
        xlsx.TemplateColumn(
            header=c.header,
            required=c.required,
            text=c.type in _TEXT_TYPES,
            choices=c.choices if c.type == "choice" else (("是", "否") if c.type == "bool" else ()),
            description=describe(c),
            width=column_width(c),
        )
        for c in kind.columns
    ]
    xlsx.write_template(out, kind.label, columns, notes(kind))
