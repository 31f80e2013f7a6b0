"""Rosters: plain structures and the Excel workbook."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.dispatch.test_solver import dem, vol
from tongban.dispatch import by_volunteer, plan, rosters, write_rosters_xlsx


def small_plan():
    volunteers = [
        vol(1, 0, 0, ["queue", "entry"], ["am", "pm"], max_shifts=2),
        vol(2, 0.2, 0, ["queue"], ["am"]),
        vol(3, 0.4, 0, ["queue"], ["pm"]),
    ]
    demands = [
        dem("S1", 0, 0, "am", "entry", 1),
        dem("S1", 0, 0, "am", "queue", 1),
        dem("S1", 0, 0, "pm", "queue", 2),
        dem("S2", 0.1, 0, "am", "medic", 1),
    ]
    return plan(volunteers, demands)


def test_rosters_structure():
    p = small_plan()
    r = rosters(p, shift_order=["am", "pm"])
    assert set(r["by_site"]) == {"S1", "S2"}
    assert list(r["by_site"]["S1"]) == ["am", "pm"]
    assert [a.volunteer_id for a in r["by_site"]["S1"]["am"]["entry"]] == [1]
    assert [a.volunteer_id for a in r["by_site"]["S1"]["am"]["queue"]] == [2]
    assert {a.volunteer_id for a in r["by_site"]["S1"]["pm"]["queue"]} == {1, 3}
    assert r["by_site"]["S2"]["am"]["medic"] == []
    assert [a.shift for a in r["by_volunteer"][1]] == ["am", "pm"]
    (u,) = r["unfilled"]
    assert u["site_id"] == "S2" and u["reason"] == "no_skill" and "技能" in u["text"]
    assert by_volunteer(p, ["pm", "am"])[1][0].shift == "pm"


def test_xlsx_has_chinese_sheets_and_every_assignment():
    p = small_plan()
    buf = io.BytesIO()
    write_rosters_xlsx(
        p,
        buf,
        {1: "张三", 2: "李四", 3: "王五"},
        site_names={"S1": "湘城核酸点", "S2": "阳澄湖卫生站"},
        shift_labels={"am": "上午", "pm": "下午"},
        role_labels={"queue": "排队引导", "entry": "信息录入", "medic": "医护"},
        phones={1: "13800000001"},
        shift_order=["am", "pm"],
    )
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["按站点", "按志愿者", "缺口", "汇总"]
    site = list(wb["按站点"].iter_rows(values_only=True))
    assert site[0] == ("站点", "班次", "岗位", "志愿者", "电话", "距离（公里）")
    flat = [str(c) for row in site for c in row if c is not None]
    assert "湘城核酸点" in flat and "阳澄湖卫生站" in flat
    assert flat.count("张三") == 2 and "13800000001" in flat
    assert "缺 1 人" in flat
    assert wb["按站点"].row_dimensions[3].outline_level == 1
    vols = list(wb["按志愿者"].iter_rows(values_only=True))
    assert len(vols) == 1 + p.filled
    assert vols[1][0] == "张三" and vols[1][3] == "上午"
    gaps = list(wb["缺口"].iter_rows(values_only=True))
    assert gaps[1][0] == "阳澄湖卫生站" and gaps[1][4] == 1
    summary = dict(list(wb["汇总"].iter_rows(values_only=True))[1:])
    assert summary["已安排（人次）"] == p.filled == 4


def test_xlsx_to_a_path(tmp_path):
    path = tmp_path / "rosters.xlsx"
    write_rosters_xlsx(small_plan(), path)
    assert load_workbook(path)["按志愿者"].max_row == 5
