"""The 诉求 pages: resident form, hotline screen and its similar-requests panel, queue and
dispatching, the request page (merge / split / refer), the routing table with xlsx export
and import, the public lookup by query code, the dashboard; and POST /api/requests."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from tongban.services import auth, requests
from tongban.store.models import Case, RequestLink, RoutingRule

ROOF = "湘城社区三号楼楼顶漏水，雨天屋内墙体发霉，物业和开发商互相推诿，请住建部门督促维修"
XSS = '<script>alert("x")</script><b>楼顶</b>漏水 & <?xml version="1.0"?><a>'


@pytest.fixture
def unsure(monkeypatch):
    monkeypatch.setattr(requests.classifier, "classify", lambda text: (None, 0.0, False))


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def resident_post(**over):
    return {
        "idempotency_key": over.pop("key", "k-1"),
        "f-request_type": "投诉",
        "f-content": ROOF,
        "f-address": "阳澄湖镇湘城社区3幢",
        "f-position-lat": "",
        "f-position-lng": "",
        "f-anonymous": "false",
        "f-contact_name": "张三",
        "f-contact_phone": "13812345678",
        **over,
    }


def test_resident_form_files_a_request_and_escapes_markup(users, unsure):
    c = client_for(users.zhangsan)
    page = c.get("/requests/new/")
    assert page.status_code == 200 and "反映问题" in page.content.decode()
    r = c.post("/requests/new/", resident_post(**{"f-content": XSS}))
    assert r.status_code == 302
    case = Case.objects.filter(matter_code="citizen_request").latest("pk")
    assert case.data["content"] == XSS  # stored as typed
    assert case.data["channel"] == "网站" and requests.token_of(case)
    # shown escaped on every page that shows it
    staff = client_for(users.dispatcher_xiangcheng)
    for url in (f"/requests/{case.pk}/", "/requests/queue/"):
        html = staff.get(url).content.decode()
        assert "<script>alert" not in html and "&lt;script&gt;" in html, url
    mine = c.get(f"/my/cases/{case.pk}/").content.decode()
    assert "<script>alert" not in mine


def test_resident_form_refuses_bad_input_and_creates_nothing(users, unsure):
    c = client_for(users.zhangsan)
    before = Case.objects.count()
    for over, needle in [
        ({"f-content": ""}, "请填写诉求内容"),
        ({"f-content": "很" * 2001}, "2000"),
        ({"f-position-lat": "51.5", "f-position-lng": "-0.12"}, "中国境内"),
        ({"f-position-lat": "39.9", "f-position-lng": "116.4"}, "服务区域"),
        ({"f-position-lat": "abc", "f-position-lng": "120.6"}, "位置格式不对"),
    ]:
        r = c.post("/requests/new/", resident_post(**over))
        assert r.status_code == 400, over
        assert needle in r.content.decode(), over
    assert Case.objects.count() == before


def test_anonymous_resident_request(users, unsure):
    c = client_for(users.zhangsan)
    r = c.post(
        "/requests/new/",
        resident_post(
            **{"f-anonymous": "true", "f-position-lat": "31.42", "f-position-lng": "120.7"}
        ),
    )
    assert r.status_code == 302
    case = Case.objects.filter(matter_code="citizen_request").latest("pk")
    assert case.data["anonymous"] is True and "contact_phone" not in case.data
    assert case.data["position"] == {"lat": 31.42, "lng": 120.7}


def test_hotline_registers_and_shows_similar_requests(users, unsure):
    op = client_for(users.dispatcher_xiangcheng)
    assert op.get("/requests/hotline/").status_code == 200
    first = requests.intake(
        users.zhangsan,
        {"request_type": "投诉", "content": ROOF, "address": "湘城社区3幢"},
    )
    panel = op.post(
        "/requests/hotline/similar/",
        {
            "content": "楼顶漏水，墙体发霉，物业推诿",
            "address": "湘城社区3幢",
            "caller": "13812345678",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f"诉求 {first.pk}" in panel
    r = op.post(
        "/requests/hotline/",
        {
            "idempotency_key": "call-1",
            "caller": "13912345678",
            "caller_name": "王女士",
            "request_type": "投诉",
            "content": "湘城社区三号楼楼顶漏水，墙体发霉，物业开发商互相推诿，请督促维修",
            "address": "阳澄湖镇湘城社区3幢",
        },
        follow=True,
    )
    text = r.content.decode()
    assert "已登记诉求" in text and "查询码" in text
    case = Case.objects.filter(matter_code="citizen_request").latest("pk")
    assert case.data["channel"] == "热线" and case.data["contact_phone"] == "13912345678"
    assert case.org.name == "湘城社区"
    link = RequestLink.objects.get(request=case)
    assert link.original_id == first.pk and "疑似与诉求" in text
    # a resident is no operator
    assert client_for(users.zhangsan).get("/requests/hotline/").status_code == 403


def test_hotline_bad_phone_keeps_what_was_typed(users, unsure):
    op = client_for(users.dispatcher_xiangcheng)
    before = Case.objects.count()
    r = op.post(
        "/requests/hotline/",
        {"caller": "12", "request_type": "咨询", "content": "社保卡丢了怎么补办？"},
    )
    assert r.status_code == 400 and "社保卡丢了怎么补办" in r.content.decode()
    assert Case.objects.count() == before


def test_queue_dispatch_merge_and_split(users, unsure):
    first = requests.intake(
        users.zhangsan, {"request_type": "投诉", "content": ROOF, "address": "湘城社区3幢"}
    )
    second = requests.intake(
        users.lisi,
        {"request_type": "投诉", "content": ROOF + "！", "address": "湘城社区3幢"},
        org_code="320507103001",
    )
    assert RequestLink.objects.get(request=second).original_id == first.pk
    d = client_for(users.dispatcher_xiangcheng)
    html = d.get("/requests/queue/").content.decode()
    assert f'id="req-{first.pk}"' in html and "附议 1 人" in html
    r = d.post(
        f"/requests/queue/{first.pk}/dispatch/", {"category": "城乡建设", "org": "320507103001"}
    )
    assert r.status_code == 302
    first.refresh_from_db()
    assert first.state == "dispatched" and first.pending_role == "dept_construction"

    assert d.post(f"/requests/{second.pk}/merge/").status_code == 302
    second.refresh_from_db()
    assert second.state == "merged" and second.data["merged_into"] == first.pk
    assert "附议 1 人" in d.get(f"/requests/{first.pk}/").content.decode()
    assert d.post(f"/requests/{second.pk}/unmerge/", {"comment": "不是同一栋楼"}).status_code == 302
    second.refresh_from_db()
    assert second.state == "registered" and "merged_into" not in second.data
    assert RequestLink.objects.get(request=second).status == RequestLink.SEPARATE
    # a department sees the request but may not merge it: refused, not a flash
    dept = client_for(users.dept_construction_xiangcheng)
    assert dept.post(f"/requests/{second.pk}/merge/").status_code == 403
    assert Case.objects.get(pk=second.pk).state == "registered"
    # another district's dispatcher: the same 404 as for a request that does not exist
    gusu = client_for(users.dispatcher_gusu)
    for url in (f"/requests/{second.pk}/merge/", f"/requests/{second.pk}/unmerge/"):
        assert gusu.post(url).status_code == 404
    assert gusu.post(f"/requests/{second.pk}/relocate/", {"org": "320507103"}).status_code == 404


def test_sent_back_request_in_the_queue(users, unsure):
    case = requests.intake(users.zhangsan, {"request_type": "投诉", "content": ROOF})
    d = client_for(users.dispatcher_xiangcheng)
    # a dispatch that fails leaves the request where it was (no half-done relocation)
    r = d.post(f"/requests/queue/{case.pk}/dispatch/", {"category": "无此类", "org": "320507102"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "registered" and case.org.code != "320507102"
    requests.dispatch(case.pk, users.dispatcher_xiangcheng, "城乡建设")
    dept = users.dept_construction_xiangcheng
    from tongban.services.cases import ActRequest, act

    act(case.pk, dept, ActRequest(action="send_back", comment="<b>应由物业办</b>"))
    html = d.get("/requests/queue/").content.decode()
    assert "住房和城乡建设局退单" in html and "&lt;b&gt;应由物业办&lt;/b&gt;" in html
    assert "<b>应由物业办</b>" not in html
    page = client_for(users.dispatcher_xiangcheng).get(f"/requests/{case.pk}/").content.decode()
    assert 'id="sent-back-reason"' in page
    r = d.post(f"/requests/queue/{case.pk}/dispatch/", {"intent": "keep", "comment": ""})
    assert Case.objects.get(pk=case.pk).state == "sent_back"  # a reason is required
    r = d.post(
        f"/requests/queue/{case.pk}/dispatch/", {"intent": "keep", "comment": "属于住建职责"}
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.pending_role) == ("dispatched", "dept_construction")


def test_refer_page_opens_a_mediation_case(users, unsure):
    case = requests.intake(
        users.zhangsan,
        {
            "request_type": "求助",
            "content": "楼上邻居漏水到我家，协商不成，请求调解",
            "contact_name": "张三",
            "contact_phone": "13812345678",
        },
    )
    requests.dispatch(case.pk, users.dispatcher_xiangcheng, "城乡建设")
    dept = client_for(users.dept_construction_xiangcheng)
    page = dept.get(f"/requests/{case.pk}/").content.decode()
    assert "转人民调解" in page and 'value="张三"' in page
    post = {
        "r-dispute_type": "邻里",
        "r-parties-0-party_role": "申请人",
        "r-parties-0-party_name": "张三",
        "r-parties-0-party_phone": "13812345678",
        "r-parties-1-party_role": "被申请人",
        "r-parties-1-party_name": "李四",
        "r-parties-1-party_phone": "",
        "r-mediation_request": "请求修复漏水并赔偿",
        "r-mediation_consent": "on",
        "comment": "邻里纠纷，转调解",
    }
    bad = dept.post(f"/requests/{case.pk}/refer/", post)
    assert bad.status_code == 400 and Case.objects.get(pk=case.pk).state == "dispatched"
    post["r-parties-1-party_phone"] = "13912345678"
    assert dept.post(f"/requests/{case.pk}/refer/", post).status_code == 302
    child = Case.objects.get(parent_id=case.pk)
    assert child.matter_code == "dispute_mediation"
    assert f"调解办件 {child.pk}" in dept.get(f"/requests/{case.pk}/").content.decode()


def test_track_by_query_code(users, unsure):
    case = requests.intake(
        users.zhangsan,
        {"request_type": "咨询", "content": "社保卡丢了怎么补办", "contact_phone": "13812345678"},
    )
    page = Client().get("/requests/track/", {"token": requests.token_of(case).lower()})
    html = page.content.decode()
    assert page.status_code == 200 and f"{case.pk}" in html and "待派单" in html
    assert "13812345678" not in html
    assert Client().get("/requests/track/", {"token": "NOSUCH99"}).status_code == 404


def _rules_xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(requests.RULE_HEADERS))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_routing_table_export_and_import(users):
    sup = client_for(users.supervisor_xiangcheng)
    assert sup.get("/requests/routing/").status_code == 200
    r = sup.get("/requests/routing/export.xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0] == requests.RULE_HEADERS and len(rows) - 1 == RoutingRule.objects.count()
    assert ("城乡建设", None, "住房和城乡建设局", None) in rows or any(
        row[0] == "城乡建设" and row[2] == "住房和城乡建设局" for row in rows
    )
    before = sorted(RoutingRule.objects.values_list("category", "department"))
    bad = _rules_xlsx([["城乡建设", "", "住房和城乡建设局"], ["无此类", "", "dept_x"]])
    f = io.BytesIO(bad)
    f.name = "rules.xlsx"
    r = sup.post("/requests/routing/", {"intent": "import", "file": f})
    assert r.status_code == 400 and "第 3 行" in r.content.decode()
    assert sorted(RoutingRule.objects.values_list("category", "department")) == before
    good = [[row[0], row[1] or "", row[2], row[3] or ""] for row in rows[1:]]
    good.append(["城乡建设", "320507103", "生态环境局", "阳澄湖镇试点"])
    f = io.BytesIO(_rules_xlsx(good))
    f.name = "rules.xlsx"
    r = sup.post("/requests/routing/", {"intent": "import", "file": f})
    assert r.status_code == 302
    rule = RoutingRule.objects.get(category="城乡建设", org__code="320507103")
    assert rule.department == "dept_environment"
    from tongban.store.models import Org

    assert (
        requests.department_for("城乡建设", Org.objects.get(code="320507103001"))
        == "dept_environment"
    )
    assert (
        requests.department_for("城乡建设", Org.objects.get(code="320507102"))
        == "dept_construction"
    )
    # not an xlsx
    f = io.BytesIO(b"hello")
    f.name = "x.xlsx"
    assert sup.post("/requests/routing/", {"intent": "import", "file": f}).status_code == 400
    # dispatchers read but do not edit
    d = client_for(users.dispatcher_xiangcheng)
    assert d.get("/requests/routing/").status_code == 200
    assert d.post("/requests/routing/", {"delete": str(rule.pk)}).status_code == 403
    assert client_for(users.zhangsan).get("/requests/routing/").status_code == 403


def test_dashboard_is_jurisdiction_scoped(users, unsure):
    requests.intake(users.zhangsan, {"request_type": "投诉", "content": ROOF}, category="城乡建设")
    requests.intake(
        users.lisi,
        {"request_type": "求助", "content": "石路步行街夜间噪音扰民"},
        category="环境保护",
    )
    r = client_for(users.supervisor_xiangcheng).get("/requests/dashboard/")
    html = r.content.decode()
    assert r.status_code == 200 and "echarts.min.js" in html
    total = int(re.search(r'id="s-total">(\d+)<', html).group(1))
    assert total == Case.objects.filter(matter_code="citizen_request", j_district="320507").count()
    assert "城乡建设" in html and "湘城社区" in html
    gusu = client_for(users.supervisor_gusu).get("/requests/dashboard/").content.decode()
    assert "南门社区" in gusu and "湘城社区" not in gusu
    assert client_for(users.dispatcher_xiangcheng).get("/requests/dashboard/").status_code == 200
    assert client_for(users.zhangsan).get("/requests/dashboard/").status_code == 403
    bad = client_for(users.supervisor_xiangcheng).get(
        "/requests/dashboard/", {"from": "2026-13-01"}
    )
    assert bad.status_code == 400


def test_api_post_requests(users, unsure):
    token = auth.create_token(users.zhangsan)
    c = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {
        "data": {
            "request_type": "咨询",
            "content": "社保卡丢了怎么补办？",
            "contact_phone": "13812345678",
        },
        "idempotency_key": "api-1",
    }
    r = c.post("/api/requests", body, content_type="application/json", **headers)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["matter"] == "citizen_request" and out["token"] and out["data"]["channel"] == "接口"
    again = c.post("/api/requests", body, content_type="application/json", **headers)
    assert again.status_code == 200 and again.json()["id"] == out["id"]
    before = Case.objects.count()
    for data in (
        {"request_type": "咨询", "content": ""},
        {"request_type": "咨询", "content": "很" * 2001},
        {"request_type": "咨询", "content": "路灯坏了", "position": {"lat": 48.85, "lng": 2.35}},
    ):
        r = c.post("/api/requests", {"data": data}, content_type="application/json", **headers)
        assert r.status_code == 400, data
    assert Case.objects.count() == before
    assert c.post("/api/requests", body, content_type="application/json").status_code == 401
