"""`tongban dispatch plan|drop|template` on the real database."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.dispatch.world import STREET, place, volunteer
from tongban.store.models import DemandSet, DispatchPlan, Outbox

pytestmark = pytest.mark.django_db

KM = 0.009


@pytest.fixture
def demand_csv(tmp_path, world):
    place("湘城采样点", 0, 0)
    volunteer("甲", 0.2 * KM, 0)
    volunteer("乙", 0.4 * KM, 0)
    path = tmp_path / "需求.csv"
    path.write_text(
        "站点,班次,岗位,人数\n湘城采样点,2022-04-11 上午,信息录入,2\n"
        "湘城采样点,2022-04-11 上午,医护,1\n",
        encoding="utf-8-sig",
    )
    return path


def run(*args) -> str:
    out = StringIO()
    call_command("dispatch", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_plan_dry_run_then_for_real_then_drop(demand_csv):
    text = run(
        "plan",
        "--org",
        STREET,
        "--demand",
        str(demand_csv),
        "--as",
        "clerk_yangchenghu",
        "--dry-run",
    )
    assert "试算" in text and "已安排 2 人次" in text
    assert "医护 缺 1 人：没有具备该岗位技能的志愿者" in text
    assert not DemandSet.objects.exists() and not Outbox.objects.exists()

    data = json.loads(run("plan", "--org", STREET, "--demand", str(demand_csv), "--json"))
    assert data["filled"] == 2 and data["missing"] == 1 and data["notified"] == 2
    assert data["unfilled"][0]["reason"] == "no_skill"

    text = run("drop", "甲")
    assert "取消：甲" in text and DispatchPlan.objects.count() == 2


def test_bad_file_names_row_and_column_and_writes_nothing(tmp_path, world):
    path = tmp_path / "bad.csv"
    path.write_text("站点,班次,岗位,人数\n某站,4月11日,信息录入,0\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="未做任何修改"):
        call_command("dispatch", "plan", "--org", STREET, "--demand", str(path), stderr=err)
    assert "第 2 行 B 列（班次）" in err.getvalue() and "第 2 行 D 列（人数）" in err.getvalue()
    assert not DemandSet.objects.exists()


def test_other_jurisdiction_is_refused(demand_csv):
    with pytest.raises(CommandError, match="不在您的辖区内"):
        run("plan", "--org", STREET, "--demand", str(demand_csv), "--as", "clerk_canglang")


def test_template(tmp_path):
    path = tmp_path / "t.xlsx"
    run("template", str(path))
    assert path.stat().st_size > 0
