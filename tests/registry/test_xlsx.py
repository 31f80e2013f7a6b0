"""The spreadsheet reader: values as Excel shows them, formulas flagged, and hostile
files refused before they cost anything."""

from __future__ import annotations

import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from tongban.registry import xlsx, xlsx_parts
from tongban.registry.xlsx import CellError, FileRejected, Formula, SheetReader


def rows_of(path, **kw):
    with SheetReader(path, **kw) as reader:
        return list(reader.rows())


@pytest.mark.parametrize("write_only", [False, True])
def test_values_from_shared_and_inline_strings(tmp_path, write_only):
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("s") if write_only else wb.active
    ws.append(["姓名", "数", None, "真"])
    ws.append(["张三", 12, None, True])
    ws.append([None, 1.5, "=B2*2", False])
    wb.save(tmp_path / "a.xlsx")
    rows = rows_of(tmp_path / "a.xlsx")
    assert rows[0] == (1, {0: "姓名", 1: "数", 3: "真"})
    assert rows[1] == (2, {0: "张三", 1: 12, 3: True})
    assert rows[2] == (3, {1: 1.5, 2: Formula("B2*2"), 3: False})


def test_dates_errors_and_rich_text(tmp_path):
    path = tmp_path / "d.xlsx"
    wb = Workbook()
    ws = wb.active
    ws["A1"] = datetime(2024, 3, 1, 8, 30)
    ws["B1"] = "#N/A"
    ws["B1"].data_type = "e"
    ws["C1"] = "'=not a formula"
    wb.save(path)
    ((_, cells),) = rows_of(path)
    assert cells[0] == datetime(2024, 3, 1, 8, 30)
    assert cells[1] == CellError("#N/A")
    assert cells[2] == "'=not a formula"


def test_too_big_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.xlsx"
    with path.open("wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(xlsx.MAX_FILE_BYTES + 1)
    with pytest.raises(FileRejected, match=r"超过 50.0 MB 上限"):
        SheetReader(path)


def _zip(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


MINIMAL = {
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def sheet(rows_xml: str, prolog: str = "") -> str:
    return (
        prolog + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows_xml}</sheetData></worksheet>"
    )


def test_hand_written_minimal_workbook(tmp_path):
    path = _zip(
        tmp_path / "m.xlsx",
        {
            **MINIMAL,
            "xl/worksheets/sheet1.xml": sheet(
                '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
                '<c r="C1" t="inlineStr"><is><r><t>身份</t></r><r><t>证号码</t></r></is></c></row>'
                "<row><c><v>7</v></c><c><f>1+1</f><v>2</v></c></row>"
            ),
        },
    )
    assert rows_of(path) == [(1, {0: "姓名", 2: "身份证号码"}), (2, {0: 7, 1: Formula("1+1")})]


def test_zip_bomb_is_refused_from_declared_sizes(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_parts, "MAX_TOTAL_BYTES", 1_000_000)
    body = '<row r="1"><c t="inlineStr"><is><t>x</t></is></c></row>' * 40_000  # ~2 MB
    path = _zip(tmp_path / "bomb.xlsx", {**MINIMAL, "xl/worksheets/sheet1.xml": sheet(body)})
    assert path.stat().st_size < 50_000  # compresses ~100:1
    with pytest.raises(FileRejected, match="解压后过大"):
        SheetReader(path)


def test_huge_sheet_part_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_parts, "MAX_PART_BYTES", 1_000_000)
    body = '<row r="1"><c t="inlineStr"><is><t>x</t></is></c></row>' * 40_000
    path = _zip(tmp_path / "big.xlsx", {**MINIMAL, "xl/worksheets/sheet1.xml": sheet(body)})
    with pytest.raises(FileRejected, match="解压后过大"):
        SheetReader(path)


def test_entity_declarations_are_refused(tmp_path):
    laughs = '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
    path = _zip(
        tmp_path / "lol.xlsx",
        {**MINIMAL, "xl/worksheets/sheet1.xml": sheet("<row><c><v>&b;</v></c></row>", laughs)},
    )
    with pytest.raises(FileRejected, match="不允许的 XML 声明"), SheetReader(path) as r:
        list(r.rows())


def test_too_many_rows(tmp_path):
    body = "".join(f'<row r="{i}"><c><v>{i}</v></c></row>' for i in range(1, 12))
    path = _zip(tmp_path / "rows.xlsx", {**MINIMAL, "xl/worksheets/sheet1.xml": sheet(body)})
    with pytest.raises(FileRejected, match="数据超过 10 行"):
        rows_of(path, max_rows=10)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 .xls"),
        ("姓名,身份证号码\n张三,1\n".encode(), "不是有效的 xlsx 文件"),
        (b"PK\x03\x04garbage", "不是有效的 xlsx 文件"),
    ],
)
def test_not_xlsx(tmp_path, content, reason):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=reason):
        SheetReader(path)


def test_written_text_starting_with_equals_stays_text(tmp_path):
    path = tmp_path / "out.xlsx"
    xlsx.write_rows(path, "s", ["名称"], [['=HYPERLINK("http://x")'], ["a\x07b"]])
    assert rows_of(path)[1:] == [(2, {0: '=HYPERLINK("http://x")'}), (3, {0: "ab"})]
