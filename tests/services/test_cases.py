"""The case service on a real database: submit, act, idempotency, conflicts, certificates."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tongban.services import cases
from tongban.services.audit import verify_all
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Case, Certificate, Event, Outbox

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


def submit(users, **kw):
    from tongban.services.demo import demo_materials

    kw.setdefault("materials", demo_materials(users.zhangsan))
    return cases.submit("road_occupation", users.zhangsan, {**GOOD, **kw.pop("data", {})}, **kw)


def act(case, user, action, **kw):
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw))


def run_to_approval(users, case):
    act(case, users.clerk_yangchenghu, "accept")
    act(case, users.reviewer_yangchenghu, "pass_review")
    act(case, users.urban_mgmt_xiangcheng, "cosign")
    act(case, users.traffic_police_xiangcheng, "cosign")
    return act(case, users.approver_xiangcheng, "approve")


def test_submit_normalises_data_and_opens_case_in_start_state(users):
    case = submit(users)
    assert case.state == "submitted"
    assert case.data["contact_phone"] == "13812345678"
    assert case.data["area"] == 30
    assert case.data["safety_commitment"]["text"].startswith("本人承诺")
    assert case.pending_role == "clerk"
    assert case.org.name == "湘城社区"
    assert case.deadline is not None and case.due_at >= case.deadline
    assert list(case.events.values_list("kind", flat=True)) == ["submitted"]
    assert Outbox.objects.filter(case=case, topic="state_changed").count() == 1


def test_invalid_submit_reports_every_field_and_writes_nothing(users):
    before = (Case.objects.count(), Event.objects.count(), Outbox.objects.count())
    with pytest.raises(Invalid) as exc:
        submit(users, data={"contact_phone": "12", "area": "-1", "purpose": "摆摊"})
    assert set(exc.value.fields) == {"contact_phone", "area", "purpose"}
    assert "手机号码" in exc.value.fields["contact_phone"]
    assert (Case.objects.count(), Event.objects.count(), Outbox.objects.count()) == before


def test_full_flow_issues_numbered_certificate_and_chain_verifies(users):
    case = run_to_approval(users, submit(users))
    assert case.state == "approved" and case.outcome == "completed"
    cert = Certificate.objects.get(case=case)
    assert cert.number.startswith("苏相建占〔") and cert.number.endswith("〕00001")
    assert f"{timezone.localtime(cert.valid_to):%Y-%m-%d %H:%M:%S}" == "2026-12-10 23:59:59"
    assert cert.holder == "张三" and not cert.validity_timed
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "moved", "moved", "signed", "moved", "moved", "certificate"]
    assert [f for _, f in verify_all([case.pk])] == [None]


def test_idempotent_submit_returns_same_case(users):
    first = submit(users, idempotency_key="k-1")
    again = submit(users, idempotency_key="k-1")
    assert again.pk == first.pk
    assert Case.objects.filter(idempotency_key="k-1").count() == 1


def test_idempotency_key_reused_for_other_matter_conflicts(users):
    submit(users, idempotency_key="k-2")
    with pytest.raises(Conflict):
        cases.submit("other_matter", users.zhangsan, {}, idempotency_key="k-2")


def test_unknown_matter_is_not_found(users):
    with pytest.raises(NotFound):
        cases.submit("no_such_matter", users.zhangsan, GOOD)


def test_stale_version_is_a_conflict_not_a_lost_update(users):
    case = submit(users)
    act(case, users.clerk_yangchenghu, "accept")
    with pytest.raises(Conflict):
        act(case, users.reviewer_yangchenghu, "pass_review", expected_version=1)
    assert Case.objects.get(pk=case.pk).state == "review"


def test_other_jurisdiction_cannot_see_or_act(users):
    case = submit(users)
    with pytest.raises(NotFound):
        act(case, users.clerk_canglang, "accept")
    with pytest.raises(NotFound):
        cases.get_case(case.pk, users.lisi)
    assert Case.objects.get(pk=case.pk).state == "submitted"


def test_wrong_role_in_jurisdiction_is_forbidden(users):
    case = submit(users)
    with pytest.raises(Forbidden) as exc:
        act(case, users.reviewer_yangchenghu, "accept")
    assert "角色" in exc.value.message


def test_comment_required_and_correction_round_trip(users):
    case = submit(users)
    with pytest.raises(Invalid):
        act(case, users.clerk_yangchenghu, "request_correction")
    act(case, users.clerk_yangchenghu, "request_correction", comment="请补充平面图")
    assert Case.objects.get(pk=case.pk).pending_role == "applicant"
    act(case, users.zhangsan, "resubmit", data={"area": "25"})
    case.refresh_from_db()
    assert case.state == "submitted" and case.data["area"] == 25
    edits = case.events.get(action="resubmit").body
    assert '"area":[30,25]' in edits


def test_window_clerk_files_for_walk_in(users):
    from tongban.services.demo import demo_materials

    files = demo_materials(users.zhangsan)
    case = cases.submit(
        "road_occupation",
        users.clerk_yangchenghu1,
        GOOD,
        on_behalf_of=users.zhangsan,
        materials=files,
    )
    assert case.applicant_id == users.zhangsan.pk
    assert case.created_by_id == users.clerk_yangchenghu1.pk
    with pytest.raises(Forbidden):
        cases.submit(
            "road_occupation",
            users.clerk_canglang1,
            GOOD,
            on_behalf_of=users.zhangsan,
            materials=files,
        )


def test_tampered_event_is_named_by_audit(users, capsys):
    case = submit(users)
    act(case, users.clerk_yangchenghu, "accept")
    Event.objects.filter(case=case, seq=1).update(
        body=Event.objects.get(case=case, seq=1).body.replace("张三", "李四")
    )
    failures = [f for _, f in verify_all([case.pk]) if f]
    assert failures and failures[0].seq == 1
    with pytest.raises(CommandError, match="记录链已损坏"):
        call_command("audit", "verify", str(case.pk))
