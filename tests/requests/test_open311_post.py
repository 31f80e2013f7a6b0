"""Open311 GeoReport v2 contract tests, written from the spec text: POST requests, every
documented error with the HTTP status the spec names, nothing half-created, tokens."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from tests.requests.open311_helpers import (
    BASE,
    FORMATS,
    MARKUP,
    TEXT,
    XIANGCHENG,
    count,
    errors_of,
    parse,
    post,
    xml_items,
)
from tongban.services import requests
from tongban.store.models import Case

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
