"""Open311 GeoReport v2 contract tests, written from the spec text (wiki.open311.org/GeoReport_v2
and /Service_Discovery): every endpoint in XML and JSON, every documented error as a list of
{code, description} with the HTTP status the spec names, and nothing half-created by a
refused POST."""

from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from tongban.services import auth, open311, requests
from tongban.services.cases import ActRequest, act
from tongban.store.models import Case

BASE = "/open311/v2"
FORMATS = ("xml", "json")
TEXT = "湘城大街18号门前路灯坏了三天，晚上很黑，行人容易摔倒"
MARKUP = '<b>路灯</b> & <script>alert("x")</script> ]]> <?xml version="1.0"?>'
XIANGCHENG = {"lat": "31.43", "long": "120.70"}  # inside 相城区


@pytest.fixture
def unsure(monkeypatch):
    monkeypatch.setattr(requests.classifier, "classify", lambda text: (None, 0.0, False))


@pytest.fixture
def api_key(users):
    return auth.create_token(users.zhangsan, name="open311 app")


def parse(response, fmt):
    """(root tag or None, python data) of a response; checks the spec's content types."""
    ctype = response["Content-Type"]
    if fmt == "json":
        assert ctype == "application/json; charset=utf-8"
        return None, json.loads(response.content.decode("utf-8"))
    assert ctype == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    return root.tag, root


def xml_items(root, item):
    """Children of a list root as {tag: text} dicts (nested lists left as elements)."""
    out = []
    for el in root.findall(item):
        row = {}
        for child in el:
            row[child.tag] = child if len(child) else (child.text or "")
        out.append(row)
    return out


def errors_of(response, fmt):
    tag, body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list) and body
        assert all(set(e) == {"code", "description"} for e in body)
        return [(e["code"], e["description"]) for e in body]
    assert tag == "errors"
    items = xml_items(body, "error")
    assert items and all(set(e) == {"code", "description"} for e in items)
    return [(int(e["code"]), e["description"]) for e in items]


def post(client, fmt, **params):
    return client.post(f"{BASE}/requests.{fmt}", params)


def count():
    return Case.objects.filter(matter_code="citizen_request").count()


# -- discovery ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(db, fmt):
    r = Client().get(f"{BASE}/discovery.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    if fmt == "json":
        assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
        ep = body["endpoints"][0]
        formats = ep["formats"]
    else:
        assert tag == "discovery"
        for name in ("changeset", "contact", "key_service"):
            assert body.find(name).text
        ep_el = body.find("endpoints/endpoint")
        ep = {c.tag: c.text for c in ep_el if c.tag != "formats"}
        formats = [f.text for f in ep_el.findall("formats/format")]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"].endswith("/open311/v2") and ep["type"] in ("production", "test")
    assert ep["changeset"]
    assert set(formats) == {"text/xml", "application/json"}
    root = Client().get(f"{BASE}/")
    assert root.status_code == 200 and b"<discovery>" in root.content


# -- services -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list(world, fmt):
    r = Client().get(f"{BASE}/services.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    if fmt == "json":
        services = body
        assert all(s["metadata"] is True for s in services)
    else:
        assert tag == "services"
        services = xml_items(body, "service")
        assert all(s["metadata"] == "true" for s in services)
    codes = [s["service_code"] for s in services]
    assert codes == [*requests.category_options(), "general"]
    for s in services:
        assert {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        } <= set(s)
        assert s["type"] == "realtime"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list_jurisdiction(world, fmt):
    assert Client().get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "320507"}).status_code == 200
    r = Client().get(f"{BASE}/services.{fmt}", {"jurisdiction_id": "sfgov.org"})
    assert r.status_code == 404 and errors_of(r, fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["城乡建设", "general"])
def test_service_definition(world, fmt, code):
    r = Client().get(f"{BASE}/services/{code}.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    if fmt == "json":
        assert body["service_code"] == code
        attr = body["attributes"][0]
        values = attr["values"]
        assert attr["variable"] is True and attr["required"] is False and attr["order"] == 1
    else:
        assert tag == "service_definition" and body.find("service_code").text == code
        el = body.find("attributes/attribute")
        attr = {c.tag: c.text for c in el if c.tag != "values"}
        values = [{v.find("key").text: v.find("name").text} for v in el.findall("values/value")]
        values = [{"key": k, "name": n} for d in values for k, n in d.items()]
        assert attr["variable"] == "true" and attr["required"] == "false" and attr["order"] == "1"
    assert attr["code"] == "request_type" and attr["datatype"] == "singlevaluelist"
    assert [v["key"] for v in values] == ["咨询", "求助", "建议", "投诉", "紧急"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_unknown_code(world, fmt):
    r = Client().get(f"{BASE}/services/pothole.{fmt}")
    assert r.status_code == 404
    assert errors_of(r, fmt)[0][0] == 404


# -- POST requests -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_request(users, api_key, unsure, fmt):
    c = Client(enforce_csrf_checks=True)  # token-authenticated: no CSRF token needed
    r = post(
        c,
        fmt,
        api_key=api_key,
        service_code="城乡建设",
        description=TEXT,
        address_string="阳澄湖镇湘城大街18号",
        first_name="三",
        last_name="张",
        phone="13812345678",
        email="zhang@example.com",
        device_id="dev-1",
        media_url="https://example.com/lamp.jpg",
        **{"attribute[request_type]": "投诉"},
        **XIANGCHENG,
    )
    assert r.status_code == 200, r.content
    tag, body = parse(r, fmt)
    if fmt == "json":
        assert len(body) == 1
        item = body[0]
    else:
        assert tag == "service_requests"
        item = xml_items(body, "request")[0]
    assert "token" not in item  # realtime: the id, never a token as well
    case = Case.objects.get(pk=int(item["service_request_id"]))
    assert "查询码" in item["service_notice"] and requests.token_of(case) in item["service_notice"]
    assert "account_id" in item
    assert case.data["channel"] == "Open311" and case.data["request_type"] == "投诉"
    assert case.data["contact_name"] == "张三" and case.data["media_url"].endswith("lamp.jpg")
    assert case.data["position"] == {"lat": 31.43, "lng": 120.7}
    # a chosen service code routes straight to that category's department
    assert (case.state, case.pending_role) == ("dispatched", "dept_construction")
    assert case.org.name == "阳澄湖镇"


def test_post_general_waits_for_a_dispatcher(users, api_key, unsure):
    r = post(
        Client(), "json", api_key=api_key, service_code="general", description=TEXT, **XIANGCHENG
    )
    case = Case.objects.get(pk=r.json()[0]["service_request_id"])
    assert case.state == "registered" and "category" not in case.data
    assert case.data["request_type"] == "求助"  # the attribute's default


ERROR_CASES = [
    ({"api_key": None}, 403, "api_key"),
    ({"api_key": "tb_wrong"}, 403, "api_key"),
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "pothole"}, 404, "service_code"),
    ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id"),
    ({"lat": "", "long": ""}, 400, "location"),
    ({"long": ""}, 400, "lat & long"),
    ({"lat": "north", "long": "120.6"}, 400, "lat/long"),
    ({"lat": "51.50", "long": "-0.12"}, 400, "中国境内"),  # London
    ({"lat": "39.90", "long": "116.40"}, 400, "服务区域"),  # Beijing: China, not here
    ({"jurisdiction_id": "320508"}, 400, "jurisdiction_id"),  # a 相城区 point, 姑苏区 named
    ({"description": ""}, 400, "description"),
    ({"description": "很" * 2001}, 400, "description"),
    ({"attribute[request_type]": "抱怨"}, 400, "attribute[request_type]"),
    ({"phone": "12345"}, 400, "phone"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("change", "status", "needle"), ERROR_CASES)
def test_post_errors_create_nothing(users, api_key, unsure, fmt, change, status, needle):
    params = {"api_key": api_key, "service_code": "城乡建设", "description": TEXT, **XIANGCHENG}
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    before = count()
    r = post(Client(), fmt, **params)
    assert r.status_code == status, r.content
    errors = errors_of(r, fmt)
    assert all(code == status for code, _ in errors)
    assert any(needle in d for _, d in errors), errors
    assert count() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_markup_in_description_is_stored_as_text_and_returned_escaped(users, api_key, unsure, fmt):
    r = post(
        Client(), fmt, api_key=api_key, service_code="general", description=MARKUP, **XIANGCHENG
    )
    assert r.status_code == 200
    _, body = parse(r, fmt)
    rid = (
        body[0]["service_request_id"]
        if fmt == "json"
        else body.find("request/service_request_id").text
    )
    assert Case.objects.get(pk=int(rid)).data["content"] == MARKUP
    got = Client().get(f"{BASE}/requests/{rid}.{fmt}")
    if fmt == "xml":
        assert b"<script>" not in got.content and b"&lt;script&gt;" in got.content
        assert ET.fromstring(got.content).find("request/description").text == MARKUP
    else:
        assert got.json()[0]["description"] == MARKUP


def test_wrong_method_and_unknown_resource(world):
    r = Client().put(f"{BASE}/requests.json")
    assert r.status_code == 400 and errors_of(r, "json")[0][0] == 400
    r = Client().post(f"{BASE}/services.xml")
    assert r.status_code == 400 and errors_of(r, "xml")
    r = Client().get(f"{BASE}/requests.html")
    assert r.status_code == 404 and errors_of(r, "xml")[0][0] == 404
    r = Client().get(f"{BASE}/nothing/here.json")
    assert r.status_code == 404 and errors_of(r, "json")[0][0] == 404


# -- tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_token(users, api_key, unsure, fmt):
    case = requests.intake(users.zhangsan, {"request_type": "求助", "content": TEXT})
    token = requests.token_of(case)
    r = Client().get(f"{BASE}/tokens/{token}.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    item = body[0] if fmt == "json" else xml_items(body, "request")[0]
    assert tag in (None, "service_requests")
    assert int(item["service_request_id"]) == case.pk and item["token"] == token
    r = Client().get(f"{BASE}/tokens/NOSUCH99.{fmt}")
    assert r.status_code == 404 and errors_of(r, fmt)[0][0] == 404


# -- GET requests ----------------------------------------------------------------------------


def _make(users, text=TEXT, category=None, **data):
    return requests.intake(
        users.zhangsan, {"request_type": "求助", "content": text, **data}, category=category
    )


def _ids(response, fmt):
    tag, body = parse(response, fmt)
    if fmt == "json":
        return [r["service_request_id"] for r in body]
    assert tag == "service_requests"
    return [int(r["service_request_id"]) for r in xml_items(body, "request")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_fields_and_status_mapping(users, unsure, fmt):
    case = _make(
        users,
        category="城乡建设",
        address="湘城大街18号",
        contact_phone="13812345678",
        position={"lat": 31.43, "lng": 120.7},
    )
    dept = users.dept_construction_xiangcheng
    r = Client().get(f"{BASE}/requests/{case.pk}.{fmt}")
    assert r.status_code == 200
    tag, body = parse(r, fmt)
    item = body[0] if fmt == "json" else xml_items(body, "request")[0]
    expected = {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
        "lat", "long", "media_url",
    }  # fmt: skip
    assert set(item) == expected
    assert item["status"] == "open" and item["service_code"] == "城乡建设"
    assert item["status_notes"].startswith("待签收") and "住房和城乡建设局" in item["status_notes"]
    assert item["agency_responsible"] == "住房和城乡建设局"
    assert str(item["requested_datetime"]).endswith("+08:00")
    assert float(item["lat"]) == 31.43 and float(item["long"]) == 120.7
    assert "13812345678" not in r.content.decode()  # nobody's phone in public answers
    for action, comment in (("accept", ""), ("reply", "已修复")):
        act(case.pk, dept, ActRequest(action=action, comment=comment))
    act(
        case.pk,
        users.dispatcher_xiangcheng,
        ActRequest(action="callback", data={"satisfaction": "满意"}),
    )
    tag, body = parse(Client().get(f"{BASE}/requests/{case.pk}.{fmt}"), fmt)
    item = body[0] if fmt == "json" else xml_items(body, "request")[0]
    assert item["status"] == "closed" and item["status_notes"] == "已办结"


def test_sent_back_request_is_open_and_names_its_first_department(users, unsure):
    case = _make(users, category="城乡建设", address="湘城大街18号")
    act(
        case.pk,
        users.dept_construction_xiangcheng,
        ActRequest(action="send_back", comment="应由物业主管部门办理"),
    )
    item = Client().get(f"{BASE}/requests/{case.pk}.json").json()[0]
    assert item["status"] == "open"
    assert item["status_notes"] == "退单待审核（住房和城乡建设局）"


def test_description_masks_numbers(users, unsure):
    case = _make(users, text="我的电话13812345678，身份证11010519491231002X，路灯坏了")
    item = Client().get(f"{BASE}/requests/{case.pk}.json").json()[0]
    assert "13812345678" not in item["description"] and "138****5678" in item["description"]
    assert "11010519491231002X" not in item["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters(users, unsure, fmt):
    road = _make(users, category="交通运输", text="湘城大街路面塌陷，车辆绕行困难")
    roof = _make(users, category="城乡建设", text="楼顶漏水墙体发霉，请住建部门督促维修")
    general = _make(users, text="想咨询一下社区养老服务怎么申请")
    old = _make(users, category="城乡建设", text="去年反映的小区围墙倒塌问题")
    Case.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(days=120))
    withdrawn = _make(users, text="公园的健身器材坏了")
    act(withdrawn.pk, users.zhangsan, ActRequest(action="withdraw"))
    c = Client()
    ids = _ids(c.get(f"{BASE}/requests.{fmt}"), fmt)
    assert {road.pk, roof.pk, general.pk, withdrawn.pk} <= set(ids) and old.pk not in ids
    assert ids == sorted(ids, reverse=True)  # newest first
    assert set(_ids(c.get(f"{BASE}/requests.{fmt}", {"service_code": "城乡建设"}), fmt)) == {
        roof.pk
    }
    both = _ids(c.get(f"{BASE}/requests.{fmt}", {"service_code": "城乡建设,general"}), fmt)
    assert {roof.pk, general.pk, withdrawn.pk} <= set(both) and road.pk not in both
    closed = _ids(c.get(f"{BASE}/requests.{fmt}", {"status": "closed"}), fmt)
    assert withdrawn.pk in closed and road.pk not in closed
    opened = _ids(c.get(f"{BASE}/requests.{fmt}", {"status": "open"}), fmt)
    assert road.pk in opened and withdrawn.pk not in opened
    assert set(_ids(c.get(f"{BASE}/requests.{fmt}", {"status": "open,closed"}), fmt)) >= {
        road.pk,
        withdrawn.pk,
    }
    # service_request_id overrides every other argument, even the date range
    got = _ids(
        c.get(
            f"{BASE}/requests.{fmt}",
            {"service_request_id": f"{old.pk},{road.pk}", "status": "closed"},
        ),
        fmt,
    )
    assert set(got) == {old.pk, road.pk}
    start = (timezone.now() - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(c.get(f"{BASE}/requests.{fmt}", {"start_date": start, "end_date": end}), fmt) == [
        old.pk
    ]
    assert old.pk in _ids(c.get(f"{BASE}/requests.{fmt}", {"start_date": start}), fmt)
    since = (timezone.localtime() - timedelta(days=1)).isoformat(timespec="seconds")
    assert road.pk in _ids(c.get(f"{BASE}/requests.{fmt}", {"start_date": since}), fmt)
    assert _ids(c.get(f"{BASE}/requests.{fmt}", {"jurisdiction_id": "320508"}), fmt) == []


def test_get_requests_limit(users, unsure, monkeypatch):
    made = [_make(users, text=f"第{i}号路灯不亮，请维修") for i in range(4)]
    monkeypatch.setattr(open311, "MAX_RECORDS", 3)
    ids = _ids(Client().get(f"{BASE}/requests.json"), "json")
    assert ids == [m.pk for m in reversed(made)][:3]
    assert open311.DEFAULT_DAYS == 90


GET_ERRORS = [
    ({"start_date": "yesterday"}, "start_date"),
    ({"end_date": "2026-02-30T00:00:00Z"}, "end_date"),
    ({"start_date": "2026-01-01T00:00:00"}, "start_date"),  # no timezone
    ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, "start_date"),
    ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"}, "90"),
    ({"status": "pending"}, "status"),
    ({"service_code": "pothole"}, "service_code"),
    ({"service_request_id": "12,abc"}, "service_request_id"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("params", "needle"), GET_ERRORS)
def test_get_requests_errors(world, fmt, params, needle):
    r = Client().get(f"{BASE}/requests.{fmt}", params)
    assert r.status_code == 400
    errors = errors_of(r, fmt)
    assert errors[0][0] == 400 and any(needle in d for _, d in errors)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request_errors(world, fmt):
    for rid in ("999999999", "abc"):
        r = Client().get(f"{BASE}/requests/{rid}.{fmt}")
        assert r.status_code == 404 and errors_of(r, fmt)[0][0] == 404
    r = Client().get(f"{BASE}/requests/1.{fmt}", {"jurisdiction_id": "nowhere"})
    assert r.status_code == 404


def test_other_matters_are_not_service_requests(users):
    from tongban.services.cases import submit

    other = submit(
        "road_occupation",
        users.zhangsan,
        {
            "applicant_name": "张三",
            "contact_phone": "13812345678",
            "location": "湘城大街18号",
            "area": 30,
            "purpose": "施工",
            "start_date": "2026-12-01",
            "end_date": "2026-12-10",
            "safety_commitment": True,
        },
        materials=__import__("tongban.services.demo", fromlist=["x"]).demo_materials(
            users.zhangsan
        ),
    )
    assert Client().get(f"{BASE}/requests/{other.pk}.json").status_code == 404
