"""The JSON API end to end through Django's test client: reading and acting on cases
(the road-occupation flow to a certificate, privacy) and worklists."""

from __future__ import annotations

from tests.web.api_helpers import GOOD, act, assert_error, auth, submitted
from tongban.store.models import Case

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
