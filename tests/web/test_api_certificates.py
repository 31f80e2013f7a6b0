"""POST /api/certificates/{number}/revoke: the issuing body revokes; everyone else gets
403 (sees the case) or 404 (does not), like the rest of the API."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings

from tests.packs.transport import issue_pass
from tests.web.api_helpers import assert_error
from tongban.store.models import Certificate


def url(cert) -> str:
    return f"/api/certificates/{quote(cert.number, safe='')}/revoke"


def test_issuing_role_revokes_and_gets_the_status(as_user, users):
    cert = issue_pass(users)
    r = as_user("agri_approver_xiangcheng").post(url(cert), {"reason": "企业申请注销"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["number"], body["status"], body["label"]) == (cert.number, "revoked", "已撤销")
    assert body["revoke_reason"] == "企业申请注销" and body["revoked_at"].endswith("+08:00")
    assert body["case_id"] == cert.case_id
    assert body["verify_url"] == f"{settings.TONGBAN_PUBLIC_URL}/verify/{cert.number}"
    again = as_user("head_xiangcheng").post(url(cert), {"reason": "再次撤销"})
    assert assert_error(again, 409, "already_revoked")["message"].endswith("不能重复撤销")
    case = as_user("agri_approver_xiangcheng").get(f"/api/cases/{cert.case_id}").json()
    assert case["certificates"][0]["revoked"] is True


def test_reason_is_required(as_user, users):
    cert = issue_pass(users)
    api = as_user("agri_approver_xiangcheng")
    assert assert_error(api.post(url(cert), {}), 400, "invalid")["fields"] == {"reason": "必填"}
    assert assert_error(api.post(url(cert), {"reason": "  "}), 400)["fields"] == {"reason": "必填"}
    assert Certificate.objects.get(pk=cert.pk).revoked_at is None


def test_other_roles_403_outsiders_404_anonymous_401(as_user, users, client):
    cert = issue_pass(users)
    body = {"reason": "试图撤销"}
    for who in ("econ_officer_yangchenghu", "supervisor_xiangcheng", "ent_demo"):
        assert_error(as_user(who).post(url(cert), body), 403, "forbidden")
    for who in ("agri_approver_gusu", "approver_xiangcheng", "lisi"):
        assert_error(as_user(who).post(url(cert), body), 404, "not_found")
    missing = as_user("agri_approver_xiangcheng").post(
        "/api/certificates/320507999999/revoke", body
    )
    assert_error(missing, 404, "not_found")
    assert as_user("agri_approver_xiangcheng").get(url(cert)).status_code == 405
    assert client.post(url(cert), body, content_type="application/json").status_code == 401
    assert Certificate.objects.get(pk=cert.pk).revoked_at is None


def test_documented_in_openapi(client, world):
    spec = client.get("/api/openapi.json").json()
    op = spec["paths"]["/api/certificates/{number}/revoke"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(op["responses"])
    assert op["summary"] == "撤销证照"
