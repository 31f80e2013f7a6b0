"""Dispatch and service-circle pages through the Django test client."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.dispatch.world import CANGLANG_GRID, STREET, place, volunteer
from tongban.services import dispatch_demand
from tongban.store.models import DemandLine, DispatchPlan, Outbox, Person

pytestmark = pytest.mark.django_db

SHIFT = "2022-04-11 上午"
KM = 0.009


@pytest.fixture
def coordinator(users):
    return users.clerk_yangchenghu


@pytest.fixture
def web(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture
def ds(coordinator):
    a = place("湘城采样点", 0, 0)
    place("消泾采样点", 2 * KM, 0)
    volunteer("甲", 0.2 * KM, 0)
    volunteer("乙", 0.4 * KM, 0)
    ds = dispatch_demand.create_set(coordinator, STREET, "核酸采样", 5, 1)
    dispatch_demand.add_line(ds.pk, coordinator, a.pk, SHIFT, "信息录入", 3)
    return ds


def xlsx_bytes(rows) -> io.BytesIO:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "需求.xlsx"
    return buf


def test_create_set_and_add_a_line_with_htmx(web):
    p = place("湘城采样点")
    r = web.post(
        "/dispatch/", {"title": "周末采样", "org": STREET, "max_km": "5", "max_shifts": "1"}
    )
    assert r.status_code == 302
    url = r["Location"]
    r = web.post(
        url + "lines/",
        {"place": p.pk, "shift": "2022-4-9 上午", "role": "秩序维护", "count": "2"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "2022-04-09 上午" in r.content.decode()
    r = web.post(
        url + "lines/",
        {"place": p.pk, "shift": "周六", "role": "x", "count": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert "日期 时段" in r.content.decode()
    assert DemandLine.objects.count() == 1


def test_upload_bad_file_reports_row_and_column_and_writes_nothing(web, ds):
    f = xlsx_bytes(
        [
            ["站点", "班次", "岗位", "人数"],
            ["湘城采样点", SHIFT, "信息录入", "三"],
            ["不存在的点", SHIFT, "信息录入", 1],
        ]
    )
    r = web.post(f"/dispatch/{ds.pk}/upload/", {"file": f})
    text = r.content.decode()
    assert r.status_code == 400
    assert "第 2 行 D 列（人数）" in text
    assert DemandLine.objects.filter(demand_set=ds).count() == 1  # unchanged


def test_upload_good_file_replaces_demand(web, ds):
    f = xlsx_bytes([["站点", "班次", "岗位", "人数"], ["消泾采样点", SHIFT, "信息录入", 1]])
    r = web.post(f"/dispatch/{ds.pk}/upload/", {"file": f})
    assert r.status_code == 302
    assert list(DemandLine.objects.filter(demand_set=ds).values_list("place__name", "count")) == [
        ("消泾采样点", 1)
    ]


def test_plan_result_rosters_and_drop(web, ds):
    r = web.post(f"/dispatch/{ds.pk}/plan/", follow=True)
    text = r.content.decode()
    assert "已安排 <strong>2</strong> 人次" in text and "缺口 <strong>1</strong>" in text
    assert "符合条件的 2 名志愿者已全部排满" in text
    r = web.get(f"/dispatch/{ds.pk}/roster/")
    assert "湘城采样点" in r.content.decode() and "甲" in r.content.decode()
    r = web.get(f"/dispatch/{ds.pk}/roster/?by=volunteer")
    assert "乙" in r.content.decode()
    r = web.get(f"/dispatch/{ds.pk}/roster.xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert "按站点" in wb.sheetnames
    assert Outbox.objects.filter(topic="dispatch.assigned").count() == 2
    jia = DispatchPlan.objects.get().assignments.get(volunteer__name="甲").volunteer_id
    r = web.post(f"/dispatch/{ds.pk}/drop/", {"volunteer": jia}, follow=True)
    text = r.content.decode()
    assert "取消" in text and "志愿者退出后重排" in text
    assert Outbox.objects.filter(topic="dispatch.cancelled", recipient=f"volunteer:{jia}").exists()


SET_ROUTES = [
    "",
    "lines/",
    "lines/{line}/delete/",
    "rules/",
    "upload/",
    "plan/",
    "drop/",
    "roster/",
    "roster.xlsx",
]


def test_other_district_cannot_see_the_set(client, users, ds):
    """Every /dispatch/<pk>/… route answers another district like a missing set."""
    line = ds.lines.first()
    client.force_login(users.clerk_canglang)
    for route in SET_ROUTES:
        url = f"/dispatch/{ds.pk}/" + route.format(line=line.pk)
        for method in (client.get, client.post):
            r = method(url)
            assert r.status_code in (404, 405), (url, method.__name__, r.status_code)
            assert "湘城采样点" not in r.content.decode(), url
    assert f"/dispatch/{ds.pk}/" not in client.get("/dispatch/").content.decode()


def test_residents_cannot_use_dispatch(client, users):
    client.force_login(users.zhangsan)
    assert client.get("/dispatch/").status_code == 403


def test_service_circle_page(web, coordinator):
    place("驿站", 0, 0, kind="骑手驿站")
    place("党群中心", 3 * KM, 0, kind="党群服务中心")
    volunteer("近", 0.1 * KM, 0)
    volunteer("远", 3 * KM, 0.001)
    r = web.get("/dispatch/circle/", {"place_type": "骑手驿站", "source": "cells", "k": "1"})
    text = r.content.decode()
    assert r.status_code == 200 and 'id="circle-map"' in text and "circle-option" in text
    assert "建议新址" in text
    r = web.get("/dispatch/circle/", {"place_type": "骑手驿站", "minutes": "abc"})
    assert "时间应为数字" in r.content.decode()
    # no persons registered: the grid source says so instead of a map
    assert not Person.objects.exists()
    r = web.get("/dispatch/circle/", {"place_type": "骑手驿站", "source": "grid"})
    assert "人员台账为空" in r.content.decode()


def test_circle_does_not_show_other_districts_places(client, users):
    place("南门驿站", 0, 0, grid=CANGLANG_GRID, kind="骑手驿站")
    client.force_login(users.clerk_yangchenghu)
    r = client.get("/dispatch/circle/")
    assert "骑手驿站" not in r.content.decode()
