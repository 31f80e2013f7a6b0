"""Importing registries: all or nothing, partial with rejected rows back, no duplicates."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.registry.import_helpers import (
    only,
    sheet_rows,
)
from tests.registry.util import (
    CANGLANG_GRID,
    GRID,
    bad_check_digit,
    credit_code,
    headers,
    id_number,
    person_row,
    persons,
    write,
)
from tongban.engine.validators import CHINA_MESSAGE
from tongban.registry import xlsx_parts
from tongban.services import registry
from tongban.store.models import Enterprise, Person, Place

pytestmark = pytest.mark.django_db


def test_good_file_imports_every_row(tmp_path, clerk):
    path = persons(tmp_path / "p.xlsx", 20)
    seen = []
    result = registry.import_file("person", path, clerk, progress=lambda d, t: seen.append((d, t)))
    assert result.ok and result.imported
    assert (result.rows, result.created, result.updated) == (20, 20, 0)
    p = Person.objects.get(id_number=id_number(3))
    assert (p.name, p.org.code, p.j_street, p.tags) == ("居民3", GRID, "320507103", "党员、志愿者")
    assert p.updated_by == clerk
    assert seen[-1][0] == seen[-1][1] and all(d <= t for d, t in seen)


@pytest.mark.parametrize("write_only", [False, True])
def test_reimport_updates_and_never_duplicates(tmp_path, clerk, write_only):
    path = persons(tmp_path / "p.xlsx", 10, write_only=write_only)
    registry.import_file("person", path, clerk)
    rows = [person_row(i, 居住地址=f"新址{i}号") for i in range(1, 11)]
    write(path, headers("person"), rows, write_only=write_only)
    again = registry.import_file("person", path, clerk)
    assert (again.created, again.updated) == (0, 10)
    assert Person.objects.count() == 10
    assert Person.objects.get(id_number=id_number(4)).address == "新址4号"


def test_columns_in_any_order_and_title_rows_above(tmp_path, clerk):
    header = list(reversed(headers("person")))
    path = write(
        tmp_path / "p.xlsx",
        ["序号", *header],
        [{**person_row(1), "序号": 1}],
        before=[["湘城社区人员台账"], []],
    )
    result = registry.import_file("person", path, clerk)
    assert result.ok and result.created == 1


BAD_CASES = {
    "check_digit": (
        {"身份证号码": bad_check_digit(id_number(3))},
        ("身份证号码", "B", "身份证号码校验位不正确，请核对最后一位"),
    ),
    "outside_china": (None, ("纬度/经度", "D/E", CHINA_MESSAGE)),
    "credit_code": (
        None,
        ("统一社会信用代码", "B", "统一社会信用代码校验位不正确，请核对最后一位"),
    ),
    "duplicate_key": (
        {"身份证号码": id_number(2)},
        ("身份证号码", "B", "与第 3 行重复（身份证号码相同），同一文件中每条记录只能出现一次"),
    ),
    "formula": (
        {"居住地址": "=A2&B2"},
        (
            "居住地址",
            "D",
            "单元格含有公式，请改为直接填写内容（在 Excel 中复制该列，再“选择性粘贴 → 数值”）",
        ),
    ),
    "outside_jurisdiction": (
        {"所属网格/社区": CANGLANG_GRID},
        ("所属网格/社区", "E", "“南门社区第一网格”不在您的辖区内，不能导入"),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_one_bad_row_imports_nothing(tmp_path, clerk, case):
    over, (column, letter, reason) = BAD_CASES[case]
    if case == "outside_china":
        header = headers("place")
        good = [
            {
                "名称": f"驿站{i}",
                "类型": "骑手驿站",
                "纬度": 31.43,
                "经度": 120.71,
                "所属网格/社区": GRID,
            }
            for i in range(1, 6)
        ]
        good[2].update({"纬度": 51.5074, "经度": -0.1278})
        path, kind, model = write(tmp_path / "x.xlsx", header, good), "place", Place
    elif case == "credit_code":
        rows = [
            {
                "名称": f"企业{i}",
                "统一社会信用代码": credit_code(i),
                "主体类型": "企业",
                "所属网格/社区": GRID,
            }
            for i in range(1, 6)
        ]
        code = rows[2]["统一社会信用代码"]
        rows[2]["统一社会信用代码"] = code[:-1] + ("0" if code[-1] != "0" else "1")
        path = write(tmp_path / "x.xlsx", headers("enterprise"), rows)
        kind, model = "enterprise", Enterprise
    else:
        rows = [person_row(i) for i in range(1, 6)]
        rows[2].update(over)  # Excel row 4
        path, kind, model = write(tmp_path / "x.xlsx", headers("person"), rows), "person", Person
    result = registry.import_file(kind, path, clerk, rejected_out=tmp_path / "rej.xlsx")
    assert only(result) == [(4, column, letter, reason)]
    assert not result.imported and model.objects.count() == 0
    assert result.summary().endswith("1 行有误，整个文件未导入")


def test_missing_columns_are_named(tmp_path, clerk):
    path = write(tmp_path / "x.xlsx", headers("person", skip=("id_number", "org")), [person_row(1)])
    result = registry.import_file("person", path, clerk)
    assert result.fatal and not result.imported
    assert only(result) == [
        (1, "身份证号码", "", "缺少必填列“身份证号码”，请从模板复制表头"),
        (1, "所属网格/社区", "", "缺少必填列“所属网格/社区”，请从模板复制表头"),
    ]


def test_fifty_megabyte_file(tmp_path, clerk):
    path = tmp_path / "big.xlsx"
    with path.open("wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(50 * 1024 * 1024 + 1)
    result = registry.import_file("person", path, clerk)
    assert result.fatal and Person.objects.count() == 0
    assert only(result) == [(None, "", "", "文件大小 50.0 MB，超过 50.0 MB 上限，请拆分后分批导入")]
    assert result.problems[0].text().startswith("文件：")


def test_zip_bomb_imports_nothing(tmp_path, clerk, monkeypatch):
    monkeypatch.setattr(xlsx_parts, "MAX_PART_BYTES", 200_000)
    path = persons(tmp_path / "p.xlsx", 2000)
    result = registry.import_file("person", path, clerk)
    assert result.fatal and "解压后过大" in result.problems[0].reason
    assert Person.objects.count() == 0


def test_mixed_file_partial_imports_good_rows_and_returns_the_rest(tmp_path, clerk):
    rows = [person_row(i) for i in range(1, 11)]
    rows[1]["身份证号码"] = bad_check_digit(rows[1]["身份证号码"])  # row 3
    rows[4]["人员标签"] = "党员、会计"  # row 6
    rows[6]["联系电话"] = "=1+1"  # row 8
    path = write(tmp_path / "mixed.xlsx", headers("person"), rows)
    strict = registry.import_file("person", path, clerk)
    assert [p.row for p in strict.problems] == [3, 6, 8] and Person.objects.count() == 0

    rejected = tmp_path / "rejected.xlsx"
    result = registry.import_file("person", path, clerk, partial=True, rejected_out=rejected)
    assert (result.created, result.rejected, result.imported) == (7, 3, True)
    assert Person.objects.count() == 7
    back = sheet_rows(rejected)
    assert back[0] == [*headers("person"), "原行号", "错误原因"]
    assert [r[-2] for r in back[1:]] == [3, 6, 8]
    assert back[1][1] == rows[1]["身份证号码"]  # as sent, for fixing
    assert back[1][-1] == "身份证号码：身份证号码校验位不正确，请核对最后一位"
    assert back[3][2] == "=1+1"  # the formula comes back as text
    assert "“会计”不在可选范围内" in back[2][-1]
    # Fix the rejected file and import it as it is: the two extra columns are ignored.
    wb = load_workbook(rejected)
    ws = wb.active
    ws["B2"] = id_number(2)
    ws["F3"] = "党员"
    ws["C4"] = "13900000007"
    wb.save(rejected)
    fixed = registry.import_file("person", rejected, clerk)
    assert fixed.ok and fixed.created == 3 and Person.objects.count() == 10


def test_a_failure_mid_write_leaves_nothing_behind(tmp_path, clerk, monkeypatch):
    from django.db import DatabaseError

    from tongban.services import registry_import
    from tongban.store.models.registry import RegistryQuerySet

    # _write reads WRITE_BATCH from registry_import (registry re-exports it).
    monkeypatch.setattr(registry_import, "WRITE_BATCH", 10)
    real = RegistryQuerySet.upsert
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise DatabaseError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(RegistryQuerySet, "upsert", flaky)
    with pytest.raises(DatabaseError):
        registry.import_file("person", persons(tmp_path / "p.xlsx", 45), clerk)
    assert len(calls) == 3 and Person.objects.count() == 0


def test_partial_with_every_row_bad(tmp_path, clerk):
    rows = [person_row(i, 身份证号码="123") for i in range(1, 4)]
    result = registry.import_file(
        "person", write(tmp_path / "p.xlsx", headers("person"), rows), clerk, partial=True
    )
    assert not result.imported and result.summary() == "人员：共 3 行，全部有误，未导入任何记录"
