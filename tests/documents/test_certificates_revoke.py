"""Revoking a certificate: the body that issues it (the role taking the issuing action, as
the matter says, or the head of that body, over the case's org), from the service and the
workbench's case page."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.packs.transport import issue_pass
from tongban.services import certificates
from tongban.services.audit import verify_all
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Certificate


def staff(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def revoked(cert) -> bool:
    return Certificate.objects.get(pk=cert.pk).revoked_at is not None


# --- the service -----------------------------------------------------------------------------


def test_the_issuing_role_revokes_what_it_issued_and_the_event_is_chained(users):
    cert = issue_pass(users)  # vehicle_pass: approved (issued) by agri_approver, district
    assert certificates.may_revoke(cert, users.agri_approver_xiangcheng)
    certificates.revoke(cert.number, "车辆转作他用", users.agri_approver_xiangcheng)
    status = certificates.public_status(cert.number)
    assert (status["status"], status["revoke_reason"]) == ("revoked", "车辆转作他用")
    case = cert.case
    case.refresh_from_db()
    event = case.events.order_by("-seq").first()
    assert (event.kind, event.action, event.actor_id) == (
        "certificate",
        "revoke_certificate",
        users.agri_approver_xiangcheng.pk,
    )
    assert "车辆转作他用" in event.body and cert.number in event.body
    assert [f for _, f in verify_all([case.pk])] == [None]
    with pytest.raises(Conflict, match="不能重复撤销"):
        certificates.revoke(cert.number, "again", users.head_xiangcheng)


def test_the_head_of_the_issuing_body_may_revoke(users):
    cert = issue_pass(users)
    assert certificates.may_revoke(cert, users.head_xiangcheng)
    certificates.revoke(cert.number, "企业申请注销", users.head_xiangcheng)
    assert revoked(cert)


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("econ_officer_yangchenghu", Forbidden),  # reviewed it, did not issue it
        ("head_yangchenghu", Forbidden),  # a head, but of the town, not the issuing body
        ("supervisor_xiangcheng", Forbidden),  # oversees, does not issue
        ("ent_demo", Forbidden),  # the holder
        ("approver_xiangcheng", NotFound),  # approves other matters: does not see the case
        ("agri_approver_gusu", NotFound),  # the issuing role, another district
        ("head_gusu", NotFound),
        ("lisi", NotFound),
    ],
)
def test_other_roles_and_other_jurisdictions_may_not(users, who, error):
    cert = issue_pass(users)
    user = getattr(users, who)
    assert not certificates.may_revoke(cert, user)
    with pytest.raises(error):
        certificates.revoke(cert.number, "试图撤销", user)
    assert not revoked(cert)


def test_reason_is_required_and_bounded(users):
    cert = issue_pass(users)
    for reason in ("", "   \n "):
        with pytest.raises(Invalid) as exc:
            certificates.revoke(cert.number, reason, users.agri_approver_xiangcheng)
        assert exc.value.fields == {"reason": "必填"}
    with pytest.raises(Invalid, match="过长"):
        certificates.revoke(cert.number, "长" * 201, users.agri_approver_xiangcheng)
    with pytest.raises(NotFound):
        certificates.revoke("320507999999", "无此证照", users.agri_approver_xiangcheng)
    assert not revoked(cert)


# --- the workbench ---------------------------------------------------------------------------


def test_case_page_offers_the_form_only_to_whoever_may_revoke(users):
    cert = issue_pass(users)
    url = f"/work/cases/{cert.case_id}/"
    action = f"/work/cases/{cert.case_id}/certificates/{cert.number}/revoke/"
    page = staff(users.agri_approver_xiangcheng).get(url).content.decode()
    assert action in page and "撤销理由" in page and 'name="csrfmiddlewaretoken"' in page
    for who in ("econ_officer_yangchenghu", "supervisor_xiangcheng", "head_yangchenghu"):
        page = staff(getattr(users, who)).get(url).content.decode()
        assert cert.number in page and action not in page, who


def test_revoke_from_the_case_page(users):
    cert = issue_pass(users)
    url = f"/work/cases/{cert.case_id}/certificates/{cert.number}/revoke/"
    c = staff(users.agri_approver_xiangcheng)
    c.get(f"/work/cases/{cert.case_id}/")
    # No reason, or not confirmed: nothing happens, the page says why.
    r = c.post(url, {"reason": " ", "confirm": "1"})
    assert r.status_code == 400 and "请填写撤销理由" in r.content.decode()
    r = c.post(url, {"reason": "核查发现车辆未按路线通行"})
    assert r.status_code == 400 and "请勾选「确认撤销」" in r.content.decode()
    assert "核查发现车辆未按路线通行" in r.content.decode()  # the reason is kept in the form
    assert not revoked(cert)
    r = c.post(url, {"reason": "核查发现车辆未按路线通行", "confirm": "1"}, follow=True)
    assert r.redirect_chain[-1][0] == f"/work/cases/{cert.case_id}/"
    page = r.content.decode()
    assert f"已撤销证照 {cert.number}" in page and "已撤销" in page
    assert "理由：核查发现车辆未按路线通行" in page
    assert f"/certificates/{cert.number}/revoke/" not in page  # no form once revoked
    status = certificates.public_status(cert.number)
    assert (status["status"], status["revoke_reason"]) == ("revoked", "核查发现车辆未按路线通行")
    again = c.post(url, {"reason": "再次撤销", "confirm": "1"})
    assert again.status_code == 409 and "不能重复撤销" in again.content.decode()


def test_revoke_post_needs_csrf_and_the_right_role(users):
    cert = issue_pass(users)
    url = f"/work/cases/{cert.case_id}/certificates/{cert.number}/revoke/"
    body = {"reason": "试图撤销", "confirm": "1"}
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users.agri_approver_xiangcheng)
    assert strict.post(url, body).status_code == 403
    assert staff(users.econ_officer_yangchenghu).post(url, body).status_code == 403
    assert staff(users.agri_approver_gusu).post(url, body).status_code == 404
    assert staff(users.ent_demo).post(url, body).status_code == 403  # not staff at all
    assert Client().post(url, body).status_code == 302  # to the login page
    # A certificate of another case, through this case's address.
    other = issue_pass(users)
    wrong = f"/work/cases/{cert.case_id}/certificates/{other.number}/revoke/"
    assert staff(users.agri_approver_xiangcheng).post(wrong, body).status_code == 404
    assert not revoked(cert) and not revoked(other)
