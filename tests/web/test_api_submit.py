"""The JSON API end to end through Django's test client:
documentation, authentication, errors and submitting."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError

from tests.web.api_helpers import (
    ENDPOINTS,
    ERROR_KEYS,
    Api,
    act,
    assert_error,
    auth,
    submit,
    submitted,
)
from tongban.store.models import Case, Event

# --- documentation -------------------------------------------------------------------------


def test_openapi_is_json_and_documents_every_endpoint_and_error(client, world):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = json.loads(r.content)
    listed = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert listed >= ENDPOINTS
    error_ref = "#/components/schemas/ErrorOut"
    assert set(doc["components"]["schemas"]["ErrorOut"]["properties"]) == ERROR_KEYS
    for path, method in ENDPOINTS:
        responses = doc["paths"][path][method]["responses"]
        errors = {s for s in responses if int(s) >= 400}
        assert errors, (path, method)
        for status in errors:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": error_ref}, (path, method, status)
    submit_responses = doc["paths"]["/api/cases"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "404", "409", "503"} <= set(submit_responses)
    assert "bearer" in json.dumps(doc["components"]["securitySchemes"]).lower()
    assert client.get("/api/docs").status_code == 200


def test_matters_are_public(client, world):
    r = client.get("/api/matters")
    assert r.status_code == 200
    road = next(m for m in r.json() if m["code"] == "road_occupation")
    assert road["name"] == "临时占用城市道路审批"
    assert road["time_limit"] and road["version"] >= 1
    detail = client.get("/api/matters/road_occupation").json()
    fields = {f["key"]: f for f in detail["fields"]}
    assert fields["contact_phone"]["type"] == "phone" and fields["contact_phone"]["personal"]
    assert fields["purpose"]["options"] == ["施工", "临时设施", "文化活动", "其他"]
    assert fields["safety_commitment"]["text"].startswith("本人承诺")
    assert {m["key"] for m in detail["materials"]} == {"site_plan", "id_copy"}
    states = {s["key"]: s for s in detail["states"]}
    assert states["cosign"]["sign_roles"] == ["urban_mgmt", "traffic_police"]
    assert states["approved"]["final"]
    assert {a["key"] for a in detail["actions"]} >= {"accept", "approve", "cosign"}
    assert_error(client.get("/api/matters/no_such_matter"), 404, "not_found")


def test_database_outage_is_503_in_the_error_shape(client, world, monkeypatch):
    from tongban.services import catalog

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(catalog, "current_versions", down)
    body = assert_error(client.get("/api/matters"), 503, "unavailable")
    assert body["message"] == "数据库暂时不可用，请稍后重试"


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer ", "Basic abc", "tb_x"])
def test_missing_or_bad_token_is_401(client, world, header):
    headers = {"Authorization": header} if header is not None else {}
    r = client.get("/api/worklist", headers=headers)
    body = assert_error(r, 401, "unauthenticated")
    assert "Bearer" in body["message"] and "Bearer" in r["WWW-Authenticate"]
    r = client.post("/api/cases", "{}", content_type="application/json", headers=headers)
    assert_error(r, 401, "unauthenticated")


def test_session_reads_but_cannot_write(client, users, materials):
    case = submitted(lambda name: Api(client, getattr(users, name)), materials)
    client.force_login(users.zhangsan)
    assert client.get(f"/api/cases/{case['id']}").status_code == 200
    r = client.post(
        f"/api/cases/{case['id']}/actions/withdraw", "{}", content_type="application/json"
    )
    assert_error(r, 401)
    assert Case.objects.get(pk=case["id"]).state == "submitted"


# --- submitting ----------------------------------------------------------------------------


def test_submit_creates_case_for_applicant(as_user, materials):
    case = submitted(as_user, materials)
    assert case["state"] == "submitted" and case["state_label"] == "待受理"
    assert case["version"] == 1 and case["is_open"] and case["outcome"] is None
    assert case["data"]["contact_phone"] == "13812345678"  # normalised, unmasked for the owner
    assert case["masked"] is False
    assert case["org"]["name"] == "湘城社区"
    assert case["deadline"] and case["due_at"]
    assert {a["name"] for a in case["allowed_actions"]} == {"withdraw"}
    assert set(case["materials"]) == {"site_plan", "id_copy"}


def test_invalid_submit_is_400_per_field_and_writes_nothing(as_user, materials):
    before = (Case.objects.count(), Event.objects.count())
    r = submit(
        as_user("zhangsan"),
        materials,
        data={"contact_phone": "12", "area": "-1", "purpose": "摆摊"},
    )
    body = assert_error(r, 400)
    assert set(body["fields"]) == {"contact_phone", "area", "purpose"}
    assert "手机号码" in body["fields"]["contact_phone"]
    assert (Case.objects.count(), Event.objects.count()) == before


def test_malformed_requests_are_400_in_the_same_shape(as_user, materials, users, client):
    api = as_user("zhangsan")
    body = assert_error(api.post("/api/cases", {"matter": "road_occupation", "data": [1]}), 400)
    assert "data" in body["fields"]
    body = assert_error(api.post("/api/cases", {"data": {}}), 400, "invalid")
    assert body["fields"] == {"matter": "必填"}
    body = assert_error(api.post("/api/cases", {"matter": "x", "data": {}, "surprise": 1}), 400)
    assert "surprise" in body["fields"]
    r = client.post(
        "/api/cases", "{not json", content_type="application/json", headers=auth(users.zhangsan)
    )
    assert_error(r, 400)
    r = submit(api, {"site_plan": [{"sha256": "0" * 64}]})
    assert "site_plan" in assert_error(r, 400)["fields"]
    assert_error(submit(api, materials, matter="no_such_matter"), 404, "not_found")


def test_too_large_body_is_413(as_user, materials, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    r = submit(as_user("zhangsan"), materials, data={"location": "大" * 4000})
    body = assert_error(r, 413, "too_large")
    assert "太大" in body["message"]


def test_idempotent_replay_returns_the_same_case(as_user, materials):
    api = as_user("zhangsan")
    first = submit(api, materials, idempotency_key="api-k-1")
    again = submit(api, materials, idempotency_key="api-k-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.filter(idempotency_key="api-k-1").count() == 1
    other = api.post(
        "/api/cases", {"matter": "rectification", "data": {}, "idempotency_key": "api-k-1"}
    )
    assert_error(other, 409)


def test_free_text_comes_back_as_a_plain_json_string(as_user, materials):
    script = "<script>alert('x')</script>湘城大街 18 号"
    case = submitted(as_user, materials, data={"location": script})
    for name in ("zhangsan", "clerk_yangchenghu"):
        r = as_user(name).get(f"/api/cases/{case['id']}")
        assert r["Content-Type"] == "application/json; charset=utf-8"
        assert r.json()["data"]["location"] == script
    r = act(as_user("clerk_yangchenghu"), case["id"], "accept", comment=script)
    events = as_user("zhangsan").get(f"/api/cases/{case['id']}/events").json()
    assert events[-1]["comment"] == script
