"""`tongban registry import|export|template`: exit codes, messages and the progress bar."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.registry.util import bad_check_digit, headers, id_number, person_row, persons, write
from tongban.store.models import Person, RevealLog

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("registry", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_template_import_export(tmp_path, clerk):
    template = tmp_path / "t.xlsx"
    run("template", "person", str(template))
    assert [c.value for c in load_workbook(template).active[1]] == headers("person")
    out, err = run(
        "import", "person", str(persons(tmp_path / "p.xlsx", 30)), "--as", clerk.username
    )
    assert out.strip() == "人员：共 30 行，新增 30 条，更新 0 条"
    assert "导入 100%" in err  # the progress bar, one line per 10 % when not a terminal
    out, _ = run("import", "person", str(tmp_path / "p.xlsx"), "--as", clerk.username)
    assert out.strip() == "人员：共 30 行，新增 0 条，更新 30 条"
    export = tmp_path / "e.xlsx"
    out, _ = run("export", "person", str(export), "--as", clerk.username)
    assert out.strip() == f"已导出 30 条到 {export}"
    out, _ = run("export", "person", str(export), "--as", clerk.username, "--unmasked")
    assert RevealLog.objects.count() == 30


def test_bad_rows_exit_1_and_partial_writes_rejected_file(tmp_path, clerk):
    rows = [person_row(i) for i in range(1, 5)]
    rows[2]["身份证号码"] = bad_check_digit(id_number(3))
    path = write(tmp_path / "bad.xlsx", headers("person"), rows)
    with pytest.raises(
        CommandError, match="1 行有误，整个文件未导入；改正后重新导入，或加 --partial"
    ):
        run("import", "person", str(path), "--as", clerk.username, "--quiet")
    assert Person.objects.count() == 0
    out, err = run("import", "person", str(path), "--as", clerk.username, "--partial", "--quiet")
    assert out.strip() == "人员：共 4 行，新增 3 条，更新 0 条，1 行未导入"
    assert "第 4 行 B 列（身份证号码）：身份证号码校验位不正确，请核对最后一位" in err
    rejected = tmp_path / "bad.rejected.xlsx"
    assert f"未导入的 1 行（含错误原因）：{rejected}" in err
    assert load_workbook(rejected).active["J2"].value.endswith("请核对最后一位")


def test_unknown_kind_and_unmasked_without_user(tmp_path):
    with pytest.raises(CommandError, match="没有“people”这种台账"):
        run("template", "people", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match="需要指定用户"):
        run("export", "person", str(tmp_path / "x.xlsx"), "--unmasked")
