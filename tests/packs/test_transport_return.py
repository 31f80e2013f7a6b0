"""货运车辆返程报备 through the service layer: minute time limits with escalation,
amended return windows that re-issue the code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.packs.transport import T0, act, at, declare
from tongban.services import cases, certificates, worklist
from tongban.services.audit import verify_all
from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.services.worker import sweep
from tongban.store.models import Certificate, Event, Outbox

# --- 货运车辆返程报备 ---------------------------------------------------------------------------


def test_declaration_by_a_driver_or_an_enterprise(users):
    by_driver = declare(users)
    assert (by_driver.state, by_driver.pending_role) == ("review", "freight_reviewer")
    assert by_driver.deadline == T0 + timedelta(minutes=10)
    assert by_driver.data["return_from"] == "2026-03-02T14:00+08:00"
    by_firm = declare(users, users.ent_demo)
    assert by_firm.applicant_id == users.ent_demo.pk
    reviewer = users.freight_reviewer_xiangcheng
    assert cases.allowed_actions(by_firm, reviewer) == ["approve", "request_correction", "refuse"]
    assert cases.allowed_actions(by_firm, users.ent_demo) == ["withdraw"]
    data = {**by_firm.data, "return_from": "2026-03-02 25:00", "return_commitment": True}
    with pytest.raises(Invalid) as exc:
        cases.submit("freight_return", users.zhangsan, data)
    assert exc.value.fields == {"return_from": "时间格式不对，应为 2026-03-01 08:30"}


def test_review_overdue_after_ten_minutes_is_swept_and_escalated(users):
    case = declare(users)
    assert sweep(now=T0 + timedelta(minutes=9, seconds=59)) == 0
    assert sweep(now=T0 + timedelta(minutes=10, seconds=1)) >= 1
    case.refresh_from_db()
    assert case.overdue and case.ever_overdue and case.state == "review"
    event = case.events.get(kind="overdue")
    assert '"escalate_to":"head"' in event.body
    sent = dict(Outbox.objects.filter(case=case).values_list("topic", "recipient"))
    assert sent["overdue"] == f"role:freight_reviewer@{case.org_path}"
    assert sent["escalated"] == f"role:head@{case.org_path}"
    assert sweep(now=T0 + timedelta(minutes=30)) == 0  # once per visit to the step
    assert (
        worklist.worklist(
            users.freight_reviewer_xiangcheng, "overdue", now=T0 + timedelta(minutes=11)
        )
        .filter(pk=case.pk)
        .exists()
    )
    act(case, users.freight_reviewer_xiangcheng, "approve", T0 + timedelta(minutes=12))
    case.refresh_from_db()
    assert case.state == "issued" and not case.overdue and case.ever_overdue


def test_return_code_valid_only_inside_the_declared_window(users):
    case = declare(users)
    act(case, users.freight_reviewer_xiangcheng, "approve", T0 + timedelta(minutes=4))
    cert = Certificate.objects.get(case=case)
    assert cert.number == "HF32050726030200001"
    assert cert.validity_timed and cert.holder == "张三"
    assert (cert.valid_from, cert.valid_to) == (at("2026-03-02 14:00"), at("2026-03-02 20:00"))
    payload = certificates.qr_payload(cert)
    assert payload.startswith(
        "TB2|HF32050726030200001|freight_return|张三|2026-03-02T14:00:00+08:00|"
    )
    assert certificates.verify_offline(payload).ok

    def status(t):
        return certificates.public_status(cert.number, payload, now=at(t))

    assert status("2026-03-02 13:59")["label"] == "尚未生效"
    assert status("2026-03-02 14:00")["label"] == "有效"
    assert status("2026-03-02 20:00")["label"] == "有效"
    late = status("2026-03-02 20:01")
    assert (late["label"], late["valid_to_text"]) == ("已过期", "2026-03-02 20:00")
    assert late["validity"] == "2026-03-02 14:00 至 2026-03-02 20:00"
    assert status("2026-03-02 15:00")["signature"] == "ok"


def test_amended_return_time_reissues_the_code_and_supersedes_the_old_one(users):
    reviewer, driver = users.freight_reviewer_xiangcheng, users.zhangsan
    case = declare(users)
    act(case, reviewer, "approve", T0 + timedelta(minutes=4))
    old = Certificate.objects.get(case=case)

    # The truck runs late: only the return time may change, and only by the applicant.
    late = {"return_from": "2026-03-02 21:00", "return_to": "2026-03-03 02:30"}
    with pytest.raises(Forbidden):
        act(case, reviewer, "amend_return", at("2026-03-02 19:00"), data=late)
    act(
        case,
        driver,
        "amend_return",
        at("2026-03-02 19:00"),
        data={**late, "plate_number": "苏E99999", "cargo": "钢材"},
    )
    case.refresh_from_db()
    assert (case.state, case.deadline) == ("review", at("2026-03-02 19:10"))
    assert case.data["return_to"] == "2026-03-03T02:30+08:00"
    assert case.data["plate_number"] == "苏E01718" and case.data["cargo"] == "空车"  # unchanged
    # Until the new code is issued the old one still holds.
    assert certificates.public_status(old.number, now=at("2026-03-02 19:05"))["status"] == "valid"

    act(case, reviewer, "approve", at("2026-03-02 19:06"))
    new = Certificate.objects.filter(case=case).exclude(pk=old.pk).get()
    old.refresh_from_db()
    assert new.number == "HF32050726030200002"
    assert (new.valid_from, new.valid_to) == (at("2026-03-02 21:00"), at("2026-03-03 02:30"))
    assert old.revoked_at == at("2026-03-02 19:06")
    assert old.revoke_reason == "已重新签发：HF32050726030200002"

    scanned = certificates.public_status(old.number, certificates.qr_payload(old))
    assert (scanned["label"], scanned["revoke_reason"]) == ("已撤销", old.revoke_reason)
    fresh = certificates.qr_payload(new)
    assert certificates.public_status(new.number, fresh, now=at("2026-03-02 20:30"))["label"] == (
        "尚未生效"
    )
    assert certificates.public_status(new.number, fresh, now=at("2026-03-03 01:00"))["label"] == (
        "有效"
    )
    assert certificates.public_status(new.number, fresh, now=at("2026-03-03 02:31"))["label"] == (
        "已过期"
    )

    # The history keeps both windows, the edit and which code replaced which.
    amend = case.events.get(action="amend_return")
    assert (amend.from_state, amend.to_state, amend.actor_id) == ("issued", "review", driver.pk)
    assert (
        '"return_to":["2026-03-02T20:00+08:00","2026-03-03T02:30+08:00"]' in amend.body
        and "plate_number" not in amend.body
    )
    issued = list(case.events.filter(kind="certificate").order_by("seq"))
    assert [e.to_state for e in issued] == ["issued", "issued"]
    assert '"supersedes":["HF32050726030200001"]' in issued[1].body
    assert '"valid_to":"2026-03-03T02:30:00+08:00"' in issued[1].body
    assert Certificate.objects.filter(case=case).count() == 2
    assert [f for _, f in verify_all([case.pk])] == [None]

    # The amended declaration is reviewed within 10 minutes like the first one.
    act(
        case, driver, "amend_return", at("2026-03-03 01:00"), data={"return_to": "2026-03-03 04:00"}
    )
    assert sweep(now=at("2026-03-03 01:10:01")) >= 1
    case.refresh_from_db()
    assert case.overdue and case.state == "review"


def test_returned_or_closed_by_staff(users):
    case = declare(users)
    act(case, users.freight_reviewer_xiangcheng, "approve", T0 + timedelta(minutes=3))
    act(case, users.zhangsan, "confirm_return", at("2026-03-02 19:30"))
    case.refresh_from_db()
    assert (case.state, case.outcome) == ("returned", "completed")
    assert case.closed_at <= case.due_at  # the promise is 7 days from the declaration
    other = declare(users, users.ent_demo)
    act(other, users.freight_reviewer_xiangcheng, "approve", T0 + timedelta(minutes=3))
    act(other, users.freight_reviewer_xiangcheng, "close_return", at("2026-03-03 09:00"))
    assert Event.objects.filter(case=other, action="close_return").exists()
    with pytest.raises(NotFound):  # another district's reviewer
        act(declare(users), users.freight_reviewer_gusu, "approve", T0)
