"""Open311 GeoReport v2 contract tests, written from the spec text: GET requests, their
fields, status mapping, filters, limits and errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.requests.open311_helpers import BASE, FORMATS, TEXT, errors_of, parse, xml_items
from tongban.services import open311, requests
from tongban.services.cases import ActRequest, act
from tongban.store.models import Case

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
    from tongban.services import open311_get

    # search() reads MAX_RECORDS from open311_get (open311 re-exports it).
    monkeypatch.setattr(open311_get, "MAX_RECORDS", 3)
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
