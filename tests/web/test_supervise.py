"""Supervision dashboard (督办): figures on a known set of cases, scope, 督办 and export."""

from __future__ import annotations

import json
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.services.test_cases import GOOD
from tongban.services import cases, portal, stats, supervision
from tongban.services.audit import verify_all
from tongban.services.demo import DEMO_PASSWORD, demo_materials
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Case, Event, Org, Outbox

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = {"from": "2025-03-01", "to": "2025-03-31"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=TZ)


def login(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=DEMO_PASSWORD)
    return c


def _submit(users, when):
    return cases.submit(
        "road_occupation",
        users.zhangsan,
        GOOD,
        materials=demo_materials(users.zhangsan),
        now=when,
    )


def _run(users, case, times):
    steps = [
        (users.clerk_yangchenghu, "accept"),
        (users.reviewer_yangchenghu, "pass_review"),
        (users.urban_mgmt_xiangcheng, "cosign"),
        (users.traffic_police_xiangcheng, "cosign"),
        (users.approver_xiangcheng, "approve"),
    ]
    for (user, action), when in zip(steps, times, strict=True):
        cases.act(case.pk, user, cases.ActRequest(action=action), now=when)
    case.refresh_from_db()
    return case


@pytest.fixture
def known(users):
    """Four cases submitted on Monday 2025-03-03 09:00 in 湘城社区 (阳澄湖镇, 相城区):
    fast: completed the same morning (2 working hours), rated 5;
    next_day: completed Tuesday 09:00 (8.5 + 0.5 = 9 working hours), rated 2;
    late: completed Wednesday 2025-03-12 10:00, after the 5-working-day promise (64 h);
    stuck: never accepted, its 1-working-day step deadline long past."""
    t0 = at(3, 9)
    fast = _run(
        users,
        _submit(users, t0),
        [at(3, 9, 30), at(3, 10), at(3, 10, 15), at(3, 10, 30), at(3, 11)],
    )
    next_day = _run(
        users, _submit(users, t0), [at(3, 9, 30), at(3, 10), at(3, 10, 15), at(3, 10, 30), at(4, 9)]
    )
    late = _run(
        users,
        _submit(users, t0),
        [at(12, 9), at(12, 9, 10), at(12, 9, 20), at(12, 9, 30), at(12, 10)],
    )
    stuck = _submit(users, t0)
    portal.rate(fast.pk, users.zhangsan, 5)
    portal.rate(next_day.pk, users.zhangsan, 2, "太慢")
    return {"fast": fast, "next_day": next_day, "late": late, "stuck": stuck}


# -- the service ---------------------------------------------------------------------------


def test_period_defaults_and_validation():
    p = stats.period(None, None, on=date(2026, 3, 31))
    assert (p.start, p.end, p.days) == (date(2026, 3, 2), date(2026, 3, 31), 30)
    assert p.start_at.isoformat() == "2026-03-02T00:00:00+08:00"
    assert stats.period("2024-01-01", "2024-12-31").days == 366
    with pytest.raises(Invalid, match="开始日期不能晚于结束日期"):
        stats.period("2025-03-10", "2025-03-01")
    with pytest.raises(Invalid, match="最长 366 天"):
        stats.period("2024-01-01", "2025-01-01")
    with pytest.raises(Invalid, match="格式不对") as exc:
        stats.period("2025-13-01", None)
    assert "from" in exc.value.fields
    with pytest.raises(Invalid, match="超出范围"):
        stats.period("0001-01-01", "0001-01-02")


def test_figures_on_a_known_set(known, users):
    scope = stats.scope_for(users.supervisor_xiangcheng)
    assert scope.org.code == "320507"
    rep = stats.report(scope, stats.period(PERIOD["from"], PERIOD["to"]))
    s = rep.summary
    assert (s["submitted"], s["completed"], s["open"], s["on_time"]) == (4, 3, 1, 2)
    assert s["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert rep.handling["avg_hours"] == pytest.approx(25.0)  # (2 + 9 + 64) / 3
    assert rep.handling["cases"] == 3
    assert [(m["code"], m["total"], m["completed"]) for m in rep.matters] == [
        ("road_occupation", 4, 3)
    ]
    assert rep.matters[0]["avg_hours"] == pytest.approx(25.0)
    assert {(x["label"], x["n"]) for x in rep.states} == {("准予许可", 3), ("待受理", 1)}
    orgs = {o["name"]: o for o in rep.orgs}
    assert set(orgs) == {"阳澄湖镇", "渭塘镇", "黄埭镇", "元和街道"}
    assert (orgs["阳澄湖镇"]["total"], orgs["渭塘镇"]["total"]) == (4, 0)
    sat = rep.satisfaction
    assert (sat["ratings"], sat["satisfied"], sat["rate"]) == (2, 1, 0.5)
    assert [x["n"] for x in sat["levels"]] == [1, 0, 0, 1, 0]  # 非常满意 … 非常不满意
    # the overdue list: only the stuck case, whatever the period
    rows = stats.overdue_rows(scope)
    assert [r["id"] for r in rows] == [known["stuck"].pk]
    assert rows[0]["unit"] == "阳澄湖镇" and rows[0]["late_hours"] > 9


def test_scope_is_the_supervised_subtree(known, users):
    gusu = stats.scope_for(users.supervisor_gusu)
    p = stats.period(PERIOD["from"], PERIOD["to"])
    assert stats.summary(gusu, p)["submitted"] == 0
    assert not stats.overdue(gusu).exists()
    street = stats.scope_for(users.head_yangchenghu)
    assert street.org.code == "320507103"
    assert stats.summary(street, p)["submitted"] == 4
    with pytest.raises(NotFound):
        stats.scope_for(users.head_yangchenghu, "320507")  # the district above
    with pytest.raises(NotFound):
        stats.scope_for(users.supervisor_xiangcheng, "320508")
    with pytest.raises(Forbidden):
        stats.scope_for(users.clerk_yangchenghu)


def test_several_supervised_units_are_summed_side_by_side(known, users):
    from tongban.store.models import Membership

    Membership.objects.create(
        user=users.head_yangchenghu, org=Org.objects.get(code="320507102"), role="head"
    )
    scope = stats.scope_for(users.head_yangchenghu)
    assert scope.org is None and [o.name for o in scope.roots] == ["渭塘镇", "阳澄湖镇"]
    rows = stats.by_org(scope, stats.period(PERIOD["from"], PERIOD["to"]))
    assert [(o["name"], o["total"], o["completed"], o["on_time"]) for o in rows] == [
        ("渭塘镇", 0, 0, 0),
        ("阳澄湖镇", 4, 3, 2),
    ]
    page = login("head_yangchenghu").get("/supervise/", PERIOD).content.decode()
    assert "全部督办范围" in page and 'id="s-submitted">4<' in page


def test_escalate_writes_chained_event_and_notifies_handler_and_heads(known, users):
    stuck = known["stuck"]
    yangchenghu = Org.objects.get(code="320507103")
    yangchenghu.head = users.head_xiangcheng
    yangchenghu.save()
    version = Case.objects.get(pk=stuck.pk).version
    supervision.escalate(stuck.pk, users.supervisor_xiangcheng, "请今日办结")
    case = Case.objects.get(pk=stuck.pk)
    assert case.version == version + 1 and case.state == "submitted"
    ev = Event.objects.get(case=case, kind="escalated")
    assert ev.seq == case.event_count and ev.actor_id == users.supervisor_xiangcheng.pk
    assert json.loads(ev.body)["comment"] == "请今日办结"
    sent = set(
        Outbox.objects.filter(case=case, topic="escalated").values_list("recipient", flat=True)
    )
    assert sent == {
        f"role:clerk@{case.org_path}",
        f"user:{users.head_yangchenghu.pk}",
        f"user:{users.head_xiangcheng.pk}",
    }
    assert [f for _, f in verify_all([case.pk])] == [None]
    with pytest.raises(Conflict, match="重复"):
        supervision.escalate(stuck.pk, users.supervisor_xiangcheng, "再催一次")


def test_escalate_to_named_handler_and_refusals(known, users):
    stuck = known["stuck"]
    Case.objects.filter(pk=stuck.pk).update(handler=users.clerk_yangchenghu)
    supervision.escalate(stuck.pk, users.head_yangchenghu, "请尽快受理")
    sent = set(
        Outbox.objects.filter(case=stuck, topic="escalated").values_list("recipient", flat=True)
    )
    # the handler by name; the head who pressed is not told of their own 督办
    assert sent == {f"user:{users.clerk_yangchenghu.pk}"}
    with pytest.raises(Invalid, match="督办意见"):
        supervision.escalate(stuck.pk, users.supervisor_xiangcheng, "  ")
    with pytest.raises(NotFound):
        supervision.escalate(stuck.pk, users.supervisor_gusu, "越权")
    with pytest.raises(Forbidden):
        supervision.escalate(stuck.pk, users.clerk_yangchenghu, "非督办员")
    with pytest.raises(Conflict, match="已办结"):
        supervision.escalate(known["fast"].pk, users.supervisor_xiangcheng, "已经办完")
    assert Event.objects.filter(case=stuck, kind="escalated").count() == 1
    assert all(f is None for _, f in verify_all([stuck.pk, known["fast"].pk]))


# -- the pages -----------------------------------------------------------------------------


def test_dashboard_shows_figures_charts_and_tables(known):
    r = login("supervisor_xiangcheng").get("/supervise/", PERIOD)
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="s-submitted">4<' in page
    assert 'id="s-on-time">66.7%<' in page
    assert 'id="s-hours">25.0<' in page
    assert 'id="s-satisfied">50.0%<' in page
    assert "/static/vendor/echarts.min.js" in page and "cdn" not in page.lower()
    assert 'id="chart-matters"' in page and 'id="t-matters"' in page
    data = r.context["data"]
    assert data["matters"]["total"] == [4]
    assert {"name": "待受理", "value": 1} in data["states"]
    assert '<script id="stats" type="application/json">' in page


def test_other_district_sees_nothing(known):
    gusu = login("supervisor_gusu")
    r = gusu.get("/supervise/", PERIOD)
    assert r.status_code == 200 and 'id="s-submitted">0<' in r.content.decode()
    page = gusu.get("/supervise/overdue/").content.decode()
    assert f"case-{known['stuck'].pk}" not in page
    assert gusu.get("/supervise/", {**PERIOD, "org": "320507"}).status_code == 404
    assert gusu.get("/supervise/export.xlsx", {"org": "320507103"}).status_code == 404


def test_residents_and_clerks_get_403(known):
    for name in ("zhangsan", "clerk_yangchenghu"):
        c = login(name)
        for url in ("/supervise/", "/supervise/overdue/", "/supervise/export.xlsx"):
            assert c.get(url).status_code == 403, (name, url)
        r = c.post(f"/supervise/cases/{known['stuck'].pk}/escalate/", {"comment": "x"})
        assert r.status_code == 403
    assert not Event.objects.filter(kind="escalated").exists()


def test_anonymous_is_sent_to_login(world):
    r = Client().get("/supervise/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_org_outside_scope_or_unknown_is_404(world):
    head = login("head_yangchenghu")
    assert head.get("/supervise/", {"org": "320507"}).status_code == 404
    assert head.get("/supervise/overdue/", {"org": "nope"}).status_code == 404
    assert head.get("/supervise/", {"org": "320507103001"}).status_code == 200  # 湘城社区


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2025-03-31", "to": "2025-03-01"}, "开始日期不能晚于结束日期"),
        ({"from": "2024-01-01", "to": "2025-06-30"}, "最长 366 天"),
        ({"from": "yesterday"}, "格式不对"),
    ],
)
def test_bad_period_is_shown_not_a_500(world, params, message):
    c = login("supervisor_xiangcheng")
    r = c.get("/supervise/", params)
    assert r.status_code == 400
    assert message in r.content.decode()
    r = c.get("/supervise/export.xlsx", params)
    assert r.status_code == 400 and message in r.content.decode()


def test_overdue_page_and_escalate_form(known, users):
    c = login("supervisor_xiangcheng")
    stuck = known["stuck"]
    page = c.get("/supervise/overdue/").content.decode()
    assert f'id="case-{stuck.pk}"' in page
    assert f'action="/supervise/cases/{stuck.pk}/escalate/"' in page
    r = c.post(f"/supervise/cases/{stuck.pk}/escalate/", {"comment": ""}, follow=True)
    assert "请填写督办意见" in r.content.decode()
    assert not Event.objects.filter(case=stuck, kind="escalated").exists()
    r = c.post(
        f"/supervise/cases/{stuck.pk}/escalate/",
        {"comment": "请今日办结", "org": "320507", "page": "1"},
    )
    assert r.status_code == 302 and r["Location"] == "/supervise/overdue/?org=320507&page=1"
    assert Event.objects.filter(case=stuck, kind="escalated").count() == 1
    assert Outbox.objects.filter(
        case=stuck, topic="escalated", recipient=f"user:{users.head_yangchenghu.pk}"
    ).exists()
    page = c.get(r["Location"]).content.decode()
    assert "已督办办件" in page and "已督办 1 次" in page
    assert all(f is None for _, f in verify_all([stuck.pk]))
    # outside the jurisdiction: 404, nothing written
    r = login("supervisor_gusu").post(
        f"/supervise/cases/{stuck.pk}/escalate/", {"comment": "越权督办"}
    )
    assert r.status_code == 404
    assert Event.objects.filter(case=stuck, kind="escalated").count() == 1


def test_export_is_a_real_workbook(known):
    r = login("supervisor_xiangcheng").get("/supervise/export.xlsx", PERIOD)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=utf-8''" in r["Content-Disposition"]
    assert "2025-03-01_2025-03-31.xlsx" in r["Content-Disposition"]
    wb = load_workbook(BytesIO(r.content))
    assert wb.sheetnames == ["汇总", "按事项", "按环节", "按单位", "超期清单"]
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(min_row=2, values_only=True)}
    assert wb["汇总"]["A1"].value == "指标"
    assert summary["提交件数"] == 4 and isinstance(summary["提交件数"], int)
    assert summary["按时办结率"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["平均办理时长（工作小时）"] == pytest.approx(25.0)
    matters = list(wb["按事项"].iter_rows(values_only=True))
    assert matters[0][1] == "事项名称"
    assert matters[1][:4] == ("road_occupation", "临时占用城市道路审批", 4, 3)
    overdue = list(wb["超期清单"].iter_rows(values_only=True))
    assert overdue[0][0] == "办件编号"
    assert overdue[1][0] == known["stuck"].pk
    assert isinstance(overdue[1][6], datetime)  # the step deadline, as a date-time cell
