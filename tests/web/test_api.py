"""The JSON API end to end through Django's test client: auth, errors, the road-occupation
flow to a certificate, privacy, worklists, uploads and the token command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from tongban.services.auth import create_token
from tongban.store.models import ApiToken, Case, Event, Upload

GOOD = {
    "applicant_name": "张三",
    "contact_phone": "138 1234 5678",
    "location": "阳澄湖镇湘城大街 18 号门前",
    "area": "30",
    "purpose": "施工",
    "start_date": "2026-12-01",
    "end_date": "2026-12-10",
    "safety_commitment": True,
}
ENDPOINTS = {
    ("/api/matters", "get"),
    ("/api/matters/{code}", "get"),
    ("/api/cases", "post"),
    ("/api/cases/{case_id}", "get"),
    ("/api/cases/{case_id}/actions/{action}", "post"),
    ("/api/cases/{case_id}/events", "get"),
    ("/api/worklist", "get"),
    ("/api/uploads", "post"),
}
ERROR_KEYS = {"code", "message", "fields"}


def auth(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, name='test')}"}


class Api:
    """A client that speaks JSON with one user's token."""

    def __init__(self, client, user=None):
        self.client = client
        self.headers = auth(user) if user is not None else {}

    def get(self, url, **params):
        return self.client.get(url, params, headers=self.headers)

    def post(self, url, body=None):
        data = json.dumps(body) if body is not None else ""
        return self.client.post(
            url, data=data, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def as_user(client, users):
    return lambda name: Api(client, getattr(users, name))


@pytest.fixture
def materials(users):
    from tongban.services.demo import demo_materials

    return demo_materials(users.zhangsan)


def submit(api, materials, **overrides):
    body = {"matter": "road_occupation", "data": {**GOOD}, "materials": materials}
    data = overrides.pop("data", {})
    body["data"].update(data)
    body.update(overrides)
    return api.post("/api/cases", body)


def submitted(as_user, materials, **overrides) -> dict:
    r = submit(as_user("zhangsan"), materials, **overrides)
    assert r.status_code == 201, r.content
    return r.json()


def act(api, case_id, action, **body):
    return api.post(f"/api/cases/{case_id}/actions/{action}", body)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code
    return body


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


# --- reading and acting --------------------------------------------------------------------


def test_other_street_sees_nothing_and_cannot_act(as_user, materials):
    case = submitted(as_user, materials)
    canglang = as_user("clerk_canglang")
    assert_error(canglang.get(f"/api/cases/{case['id']}"), 404, "not_found")
    assert_error(canglang.get(f"/api/cases/{case['id']}/events"), 404, "not_found")
    assert_error(act(canglang, case["id"], "accept"), 404, "not_found")
    assert_error(as_user("lisi").get(f"/api/cases/{case['id']}"), 404)
    assert_error(as_user("zhangsan").get("/api/cases/999999999"), 404)
    assert Case.objects.get(pk=case["id"]).state == "submitted"


def test_wrong_role_is_403(as_user, materials):
    case = submitted(as_user, materials)
    body = assert_error(act(as_user("reviewer_yangchenghu"), case["id"], "accept"), 403)
    assert "角色" in body["message"]


def test_stale_expected_version_is_409(as_user, materials):
    case = submitted(as_user, materials)
    r = act(as_user("clerk_yangchenghu"), case["id"], "accept", expected_version=1)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = act(as_user("reviewer_yangchenghu"), case["id"], "pass_review", expected_version=1)
    assert_error(r, 409, "stale")
    assert Case.objects.get(pk=case["id"]).state == "review"


def test_comment_required_is_a_field_error(as_user, materials):
    case = submitted(as_user, materials)
    body = assert_error(act(as_user("clerk_yangchenghu"), case["id"], "request_correction"), 400)
    assert "comment" in body["fields"]


def test_action_without_a_body(as_user, materials, client, users):
    case = submitted(as_user, materials)
    r = client.post(
        f"/api/cases/{case['id']}/actions/accept",
        "",
        content_type="application/json",
        headers=auth(users.clerk_yangchenghu),
    )
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "review"


def test_full_flow_to_approval_issues_a_certificate(as_user, materials):
    case_id = submitted(as_user, materials)["id"]
    steps = [
        ("clerk_yangchenghu", "accept", "review"),
        ("reviewer_yangchenghu", "pass_review", "cosign"),
        ("urban_mgmt_xiangcheng", "cosign", "cosign"),
        ("traffic_police_xiangcheng", "cosign", "approval"),
        ("approver_xiangcheng", "approve", "approved"),
    ]
    for user, action, state in steps:
        api = as_user(user)
        seen = api.get(f"/api/cases/{case_id}").json()
        assert action in {a["name"] for a in seen["allowed_actions"]}, (user, action)
        r = act(api, case_id, action, expected_version=seen["version"])
        assert r.status_code == 200, r.content
        assert r.json()["state"] == state
    case = as_user("zhangsan").get(f"/api/cases/{case_id}").json()
    assert case["state_label"] == "准予许可" and case["outcome"] == "completed"
    assert not case["is_open"] and case["closed_at"]
    [cert] = case["certificates"]
    assert cert["number"].startswith("苏相建占〔") and cert["number"].endswith("〕00001")
    assert cert["valid_to"] == "2026-12-10"
    events = as_user("zhangsan").get(f"/api/cases/{case_id}/events").json()
    assert [e["kind"] for e in events] == [
        "submitted",
        "moved",
        "moved",
        "signed",
        "moved",
        "moved",
        "certificate",
    ]
    assert events[3]["details"]["progress"] == [1, 2]
    assert events[-1]["details"]["certificate_number"] == cert["number"]
    assert [e["seq"] for e in events] == list(range(1, 8))


def test_personal_data_masked_for_staff_not_for_applicant(as_user, materials):
    case = submitted(as_user, materials)
    staff = as_user("clerk_yangchenghu").get(f"/api/cases/{case['id']}")
    body = staff.json()
    assert body["masked"] is True
    assert body["data"]["contact_phone"] != "13812345678"
    assert body["data"]["contact_phone"].startswith("138") and "*" in body["data"]["contact_phone"]
    assert body["data"]["location"] == GOOD["location"]  # not personal: shown as is
    row = next(r for r in body["rows"] if r["path"] == "contact_phone")
    assert row["masked"] and row["value"] == body["data"]["contact_phone"]
    events = as_user("clerk_yangchenghu").get(f"/api/cases/{case['id']}/events")
    for response in (staff, events):
        assert b"13812345678" not in response.content
    mine = as_user("zhangsan").get(f"/api/cases/{case['id']}").json()
    assert mine["masked"] is False and mine["data"]["contact_phone"] == "13812345678"


def test_correction_round_trip_with_edits(as_user, materials):
    case_id = submitted(as_user, materials)["id"]
    clerk = as_user("clerk_yangchenghu")
    assert act(clerk, case_id, "request_correction", comment="请补充").status_code == 200
    r = act(as_user("zhangsan"), case_id, "resubmit", data={"area": "25"})
    assert r.status_code == 200, r.content
    assert r.json()["data"]["area"] == 25
    events = as_user("zhangsan").get(f"/api/cases/{case_id}/events").json()
    assert events[-1]["details"]["edited_fields"] == ["area"]


# --- worklist ------------------------------------------------------------------------------


def _all_ids(api, **params) -> list[int]:
    ids, offset = [], 0
    while offset is not None:
        r = api.get("/api/worklist", limit=200, offset=offset, **params)
        assert r.status_code == 200, r.content
        ids += [item["id"] for item in r.json()["items"]]
        offset = r.json()["next_offset"]
    return ids


def test_worklist_shows_case_in_jurisdiction_only(as_user, materials):
    case = submitted(as_user, materials)
    clerk = as_user("clerk_yangchenghu")
    assert case["id"] in _all_ids(clerk, matter="road_occupation")
    assert case["id"] not in _all_ids(as_user("clerk_canglang"))
    item = next(
        i
        for i in clerk.get("/api/worklist", matter="road_occupation", limit=200).json()["items"]
        if i["id"] == case["id"]
    )
    assert item["state_label"] == "待受理" and item["org"]["name"] == "湘城社区"
    assert item["deadline"] and item["overdue"] is False
    assert case["id"] not in _all_ids(clerk, tab="done")
    act(clerk, case["id"], "accept")
    assert case["id"] in _all_ids(clerk, tab="done")
    assert case["id"] not in _all_ids(clerk)


def test_worklist_pages_and_checks_its_query(as_user, materials):
    for _ in range(3):
        submitted(as_user, materials)
    clerk = as_user("clerk_yangchenghu")
    first = clerk.get("/api/worklist", limit=2).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    second = clerk.get("/api/worklist", limit=2, offset=2).json()
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    assert "limit" in assert_error(clerk.get("/api/worklist", limit=201), 400)["fields"]
    assert "tab" in assert_error(clerk.get("/api/worklist", tab="all"), 400)["fields"]
    assert_error(as_user("zhangsan").get("/api/worklist"), 403, "forbidden")


# --- uploads -------------------------------------------------------------------------------


def _upload(client, user, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/uploads",
        {"file": SimpleUploadedFile(name, content)},
        headers=auth(user),
    )


def test_upload_checks_content_and_the_ref_submits(client, users):
    from tongban.services.demo import sample_pdf

    fake = _upload(client, users.zhangsan, "plan.pdf", b"just some text, not a PDF")
    assert "file" in assert_error(fake, 400)["fields"]
    pdf = sample_pdf("api upload test")
    r = _upload(client, users.zhangsan, "平面图.pdf", pdf)
    assert r.status_code == 201, r.content
    ref = r.json()
    assert ref["type"] == "pdf" and ref["size"] == len(pdf) and ref["name"] == "平面图.pdf"
    assert Upload.objects.filter(sha256=ref["sha256"]).exists()
    api = Api(client, users.zhangsan)
    r = submit(api, {"site_plan": [ref], "id_copy": [{"sha256": ref["sha256"], "size": 1}]})
    assert r.status_code == 201, r.content
    stored = Case.objects.get(pk=r.json()["id"]).materials
    assert stored["id_copy"][0]["size"] == len(pdf)  # from our record, not the request
    assert_error(client.post("/api/uploads", {}, headers=auth(users.zhangsan)), 400)
    anonymous = client.post("/api/uploads", {"file": b""})
    assert_error(anonymous, 401)


def test_upload_refuses_truncated_or_borrowed_headers(client, users):
    """A file that only starts like a PDF or an image, or was cut short, is refused."""
    import io

    import segno

    from tongban.services.demo import sample_pdf

    png = io.BytesIO()
    segno.make("tongban").save(png, kind="png", scale=4)
    pdf = sample_pdf("whole")
    for name, data in [
        ("a.pdf", b"%PDF-"),
        ("cut.pdf", pdf[: len(pdf) // 2]),
        ("cut.png", png.getvalue()[:40]),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200),
    ]:
        body = assert_error(_upload(client, users.zhangsan, name, data), 400)
        assert "损坏" in body["message"] or "不符" in body["message"], (name, body)
    assert _upload(client, users.zhangsan, "qr.png", png.getvalue()).status_code == 201
    assert _upload(client, users.zhangsan, "whole.pdf", pdf).status_code == 201


def test_upload_over_the_limit_is_413(client, users, monkeypatch):
    from tongban.services import uploads
    from tongban.services.demo import sample_pdf

    monkeypatch.setattr(uploads, "MAX_UPLOAD", 100)
    r = _upload(client, users.zhangsan, "big.pdf", sample_pdf("too big for the limit"))
    body = assert_error(r, 413, "too_large")
    assert "file" in body["fields"]


# --- the token command ---------------------------------------------------------------------


def test_token_command_creates_lists_and_revokes(client, users):
    out, err = StringIO(), StringIO()
    call_command(
        "token", "create", "clerk_yangchenghu", "--name", "对接系统", stdout=out, stderr=err
    )
    token = out.getvalue().strip()
    assert token.startswith("tb_") and "只显示这一次" in err.getvalue()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/worklist", headers=headers).status_code == 200
    assert ApiToken.objects.get(prefix=token[:8]).last_used_at is not None

    out = StringIO()
    call_command("token", "list", "clerk_yangchenghu", stdout=out)
    assert token[:8] in out.getvalue() and "对接系统" in out.getvalue()
    assert token not in out.getvalue()

    out = StringIO()
    call_command("token", "revoke", "clerk_yangchenghu", token[:8], stdout=out)
    assert_error(client.get("/api/worklist", headers=headers), 401)
    out = StringIO()
    call_command("token", "list", "clerk_yangchenghu", stdout=out)
    assert "已吊销" in out.getvalue()

    with pytest.raises(CommandError):
        call_command("token", "revoke", "clerk_canglang", token[:8])
    with pytest.raises(CommandError):
        call_command("token", "create", "no_such_user")
