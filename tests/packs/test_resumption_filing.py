"""企业复工复产备案 and 个体工商户复业登记 through the service layer: filing, review,
daily reports, corrections, refusals, roles and jurisdictions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.packs.resumption import (
    CHECK,
    T0,
    TZ,
    XIANGCHENG,
    XIANGCHENG_GRID,
    account,
    act,
    approved,
    file_enterprise,
    file_shop,
    id_number,
    payload,
    to_review,
    uscc,
)
from tongban.services import cases, followups
from tongban.services.audit import verify_all
from tongban.services.demo import sample_pdf
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.uploads import store
from tongban.store.models import Case, Certificate, FollowupReport, Outbox

# -- the happy path -----------------------------------------------------------------------


def test_filing_to_receipt_daily_reports_missed_day_and_stop(users):
    ent, reviewer = users.ent_demo, users.resumption_reviewer_yangchenghu
    case = file_enterprise(ent)
    assert (case.state, case.pending_role, case.pending_level) == (
        "submitted",
        "clerk",
        "community",
    )
    assert (case.j_street, case.j_community, case.j_grid) == (
        "320507103",
        XIANGCHENG,
        XIANGCHENG_GRID,
    )
    assert case.data["credit_code"] == uscc(1) and case.data["employee_count"] == 120
    assert case.data["contact_phone"] == "13812345678"

    act(case, users.clerk_yangchenghu1, "accept", T0 + timedelta(minutes=30))
    act(case, reviewer, "send_onsite", T0 + timedelta(hours=1), comment="请核查隔离观察点")
    case = act(case, users.grid_yangchenghu1, "record_check", T0 + timedelta(hours=2), data=CHECK)
    assert case.state == "review"
    assert payload(case, "record_check")["inputs"]["check_result"] == "符合复工条件"

    approved_at = T0 + timedelta(hours=3)
    case = act(case, reviewer, "approve", approved_at)
    assert (case.state, case.outcome) == ("reporting", "")
    receipt = Certificate.objects.get(case=case)
    assert (receipt.key, receipt.name, receipt.number) == (
        "resumption_receipt",
        "复工回执",
        "复工〔2025〕00001",
    )
    assert receipt.holder == "苏州测试1号制造有限公司"
    assert receipt.details["returning_count"] == 80

    day = timedelta(days=1)
    first = followups.submit_report(
        case.pk,
        ent,
        "daily_report",
        {"staff_on_site": "78", "all_healthy": "是"},
        now=approved_at + timedelta(hours=2),
    )
    second = followups.submit_report(
        case.pk,
        ent,
        "daily_report",
        {
            "staff_on_site": 80,
            "all_healthy": False,
            "abnormal_details": "1 人发热，已送医并隔离观察",
        },
        now=approved_at + day + timedelta(hours=2),
    )
    assert (first.period, second.period) == (0, 1)
    assert first.data == {"staff_on_site": 78, "all_healthy": True}
    assert second.data["abnormal_details"].startswith("1 人发热")

    # the third day passes without a report: recorded as missed once, the applicant reminded
    assert followups.sweep_reports(now=approved_at + 3 * day + timedelta(hours=1)) == 1
    assert followups.sweep_reports(now=approved_at + 3 * day + timedelta(hours=2)) == 0
    missed = FollowupReport.objects.get(case=case, period=2)
    assert missed.missed and missed.submitted_at is None
    assert case.events.filter(kind="report_missed").count() == 1
    assert Outbox.objects.filter(
        case=case, topic="report_missed", recipient=f"user:{ent.pk}"
    ).exists()

    with pytest.raises(Invalid):
        act(case, reviewer, "stop_reports", approved_at + 3 * day)  # the comment is required
    case = act(case, reviewer, "stop_reports", approved_at + 3 * day, comment="生产正常，停止报告")
    assert (case.state, case.outcome) == ("closed", "completed")
    with pytest.raises(Conflict):  # no more reports once the street has stopped them
        followups.submit_report(
            case.pk, ent, "daily_report", {"staff_on_site": 80}, now=approved_at + 4 * day
        )
    assert [f for _, f in verify_all([case.pk])] == [None]


def test_duplicate_daily_report_in_one_period_is_a_conflict(users):
    ent = users.ent_demo
    case = approved(users, file_enterprise(ent))
    at = T0 + timedelta(hours=4)
    with pytest.raises(Invalid) as exc:  # the health status must be stated, yes or no
        followups.submit_report(case.pk, ent, "daily_report", {"staff_on_site": 70}, now=at)
    assert set(exc.value.fields) == {"all_healthy"}
    healthy = {"all_healthy": "是"}
    followups.submit_report(case.pk, ent, "daily_report", {"staff_on_site": 70, **healthy}, now=at)
    with pytest.raises(Conflict, match="已经提交过了"):
        followups.submit_report(
            case.pk,
            ent,
            "daily_report",
            {"staff_on_site": 71, **healthy},
            now=at + timedelta(hours=3),
        )
    # the street's reviewer may file it for the enterprise the next day; bad input is refused
    with pytest.raises(Invalid) as exc:
        followups.submit_report(
            case.pk,
            users.resumption_reviewer_yangchenghu,
            "daily_report",
            {"staff_on_site": "-1"},
            now=at + timedelta(days=1),
        )
    assert "staff_on_site" in exc.value.fields
    report = followups.submit_report(
        case.pk,
        users.resumption_reviewer_yangchenghu,
        "daily_report",
        {"staff_on_site": 72, "all_healthy": True},
        now=at + timedelta(days=1),
    )
    assert report.period == 1 and report.submitted_by == users.resumption_reviewer_yangchenghu
    assert FollowupReport.objects.filter(case=case, missed=False).count() == 2


# -- unhappy paths ------------------------------------------------------------------------


def test_correction_round_trip_restarts_the_promised_time_limit(users):
    ent, clerk = users.ent_demo, users.clerk_yangchenghu1
    case = file_enterprise(ent)
    with pytest.raises(Invalid):
        act(case, clerk, "request_correction", T0 + timedelta(hours=1))  # comment required
    case = act(
        case, clerk, "request_correction", T0 + timedelta(hours=1), comment="复工方案缺分批返岗安排"
    )
    assert (case.state, case.pending_role) == ("correction", "applicant")
    assert (
        Outbox.objects.filter(case=case, topic="state_changed", recipient=f"user:{ent.pk}").count()
        == 2
    )
    with pytest.raises(Forbidden):  # staff cannot resubmit for the applicant
        act(case, clerk, "resubmit", T0 + timedelta(hours=2))
    first_due = case.due_at
    new_plan = [store(sample_pdf("plan v2"), "复工方案（修订）.pdf", ent)]
    resubmitted_at = datetime(2025, 3, 6, 10, 0, tzinfo=TZ)
    case = act(
        case,
        ent,
        "resubmit",
        resubmitted_at,
        data={"returning_count": "60"},
        materials={"resumption_plan": new_plan},
    )
    assert case.state == "submitted" and case.data["returning_count"] == 60
    assert case.materials["resumption_plan"][0]["name"] == "复工方案（修订）.pdf"
    assert payload(case, "resubmit")["edits"] == {"returning_count": [80, 60]}
    assert case.due_at > first_due  # 补正 paused the clock: 3 working days from the resubmission
    case = act(case, clerk, "accept", resubmitted_at + timedelta(hours=1))
    assert case.state == "review"


def test_rectification_round_trip(users):
    ent, reviewer = users.ent_demo, users.resumption_reviewer_yangchenghu
    case = to_review(users, file_enterprise(ent))
    act(case, reviewer, "send_onsite", T0 + timedelta(hours=1))
    failed = {**CHECK, "check_findings": "未设临时隔离观察点", "check_result": "不符合复工条件"}
    act(case, users.grid_yangchenghu1, "record_check", T0 + timedelta(hours=2), data=failed)
    with pytest.raises(Invalid):
        act(case, reviewer, "rectify", T0 + timedelta(hours=3))  # the notice is required
    notice = "整改通知：设置临时隔离观察点，整改后重新提交"
    case = act(case, reviewer, "rectify", T0 + timedelta(hours=3), comment=notice)
    assert (case.state, case.pending_role) == ("rectifying", "applicant")
    assert case.events.get(action="rectify").body.count(notice) == 1
    assert Outbox.objects.filter(
        case=case, topic="state_changed", recipient=f"user:{ent.pk}", payload__state="rectifying"
    ).exists()
    assert not Certificate.objects.filter(case=case).exists()
    with pytest.raises(Invalid):  # the applicant says what was put right
        act(case, ent, "resubmit_rectified", T0 + timedelta(days=1))
    photos = [store(sample_pdf("isolation room"), "隔离观察点照片.pdf", ent)]
    case = act(
        case,
        ent,
        "resubmit_rectified",
        T0 + timedelta(days=1),
        comment="已设置隔离观察点 2 间",
        materials={"facilities": photos},
    )
    assert case.state == "review"  # straight back to the street, not to the community
    case = act(case, reviewer, "approve", T0 + timedelta(days=1, hours=2))
    assert case.state == "reporting"
    assert Certificate.objects.filter(case=case, key="resumption_receipt").count() == 1


def test_refusal_at_the_community_and_at_the_street(users):
    ent = users.ent_demo
    early = file_enterprise(ent, 1)
    with pytest.raises(Invalid):
        act(early, users.clerk_yangchenghu1, "refuse")
    early = act(early, users.clerk_yangchenghu1, "refuse", comment="不在本社区经营")
    late = to_review(users, file_enterprise(ent, 2))
    late = act(late, users.resumption_reviewer_yangchenghu, "refuse", comment="属于暂缓复工行业")
    for case in (early, late):
        assert (case.state, case.outcome) == ("refused", "refused")
        assert not Certificate.objects.filter(case=case).exists()
    with pytest.raises(Conflict):
        act(late, users.resumption_reviewer_yangchenghu, "approve")


def test_withdrawal_before_acceptance(users):
    case = file_enterprise(users.ent_demo)
    case = act(case, users.ent_demo, "withdraw")
    assert (case.state, case.outcome) == ("withdrawn", "withdrawn")


def test_wrong_role_is_forbidden(users):
    case = file_enterprise(users.ent_demo)
    with pytest.raises(Forbidden, match="角色"):
        act(case, users.ent_demo, "accept")  # the applicant
    with pytest.raises(Forbidden, match="角色"):
        act(case, users.resumption_reviewer_yangchenghu, "accept")  # the street's reviewer
    with pytest.raises(Forbidden, match="管辖"):
        act(case, users.clerk_yangchenghu, "accept")  # a clerk, but the street's window
    to_review(users, case)
    for user in (users.clerk_yangchenghu1, users.grid_yangchenghu1, users.head_yangchenghu):
        with pytest.raises(Forbidden):
            act(case, user, "approve")
    with pytest.raises(NotFound):  # a role that takes no part in the matter does not see it
        act(case, users.reviewer_yangchenghu, "approve")
    with pytest.raises(Forbidden):  # only the street sends to an on-site check
        act(case, users.grid_yangchenghu1, "send_onsite")
    case.refresh_from_db()
    assert case.state == "review"


def test_other_jurisdiction_gets_not_found(users):
    ent = users.ent_demo
    case = to_review(users, file_enterprise(ent))
    for user in (users.resumption_reviewer_weitang, users.clerk_yangchenghu2, users.zhangsan):
        with pytest.raises(NotFound):
            cases.get_case(case.pk, user)
        with pytest.raises(NotFound):
            act(case, user, "approve")
    act(case, users.resumption_reviewer_yangchenghu, "send_onsite")
    with pytest.raises(NotFound):  # 消泾村's grid worker
        act(case, users.grid_yangchenghu2, "record_check", data=CHECK)
    act(case, users.grid_yangchenghu1, "record_check", data=CHECK)
    case = act(case, users.resumption_reviewer_yangchenghu, "approve")
    with pytest.raises(NotFound):
        followups.submit_report(
            case.pk, users.resumption_reviewer_weitang, "daily_report", {"staff_on_site": 1}
        )


def test_grid_worker_reaches_only_cases_filed_in_the_grid(users):
    """The engine's jurisdiction reaches down, never up: a grid worker cannot act on a case
    that belongs to the community (see docs/packs/resumption.md). The street's reviewer
    records the check then."""
    case = to_review(users, file_enterprise(users.ent_demo, org_code=None))
    assert case.org.code == XIANGCHENG and case.j_grid == ""
    act(case, users.resumption_reviewer_yangchenghu, "send_onsite")
    with pytest.raises(NotFound):
        act(case, users.grid_yangchenghu1, "record_check", data=CHECK)
    case = act(case, users.resumption_reviewer_yangchenghu, "record_check", data=CHECK)
    assert case.state == "review"


def test_invalid_filing_reports_each_field_and_writes_nothing(users):
    before = Case.objects.count()
    bad_code = uscc(1)[:-1] + ("0" if uscc(1)[-1] != "0" else "1")
    with pytest.raises(Invalid) as exc:
        file_enterprise(
            users.ent_demo,
            credit_code=bad_code,
            employee_count="0",
            returning_count="2.5",
            industry="采矿",
        )
    assert "校验位" in exc.value.fields["credit_code"]
    assert set(exc.value.fields) == {"credit_code", "employee_count", "returning_count", "industry"}
    with pytest.raises(Invalid) as exc:
        file_enterprise(users.ent_demo, credit_code="9132050")
    assert "18位" in exc.value.fields["credit_code"]
    with pytest.raises(Invalid) as exc:  # a person's account cannot file for an enterprise
        file_enterprise(users.zhangsan)
    assert exc.value.code == "applicant_kind"
    assert Case.objects.count() == before


def test_more_returning_staff_than_employees_is_refused(users):
    with pytest.raises(Invalid) as exc:
        file_enterprise(users.ent_demo, employee_count="50", returning_count="80")
    assert exc.value.fields["returning_count"] == "首批返岗人数不能超过职工总数"


# -- 个体工商户复业 ---------------------------------------------------------------------------


def test_shop_filed_by_the_community_window_on_its_behalf(users):
    owner = account("shop_test_1", "person", XIANGCHENG)
    clerk = users.clerk_yangchenghu1
    case = file_shop(clerk, on_behalf_of=owner)
    assert (case.applicant_id, case.created_by_id) == (owner.pk, clerk.pk)
    assert payload_of_submission(case)["on_behalf_of"] == owner.pk
    case = act(case, clerk, "confirm", T0 + timedelta(hours=1))
    assert (case.state, case.outcome) == ("registered", "completed")
    receipt = Certificate.objects.get(case=case)
    assert (receipt.number, receipt.holder) == ("复业〔2025〕00001", "湘城1号小吃店")
    assert "id_number" not in receipt.details  # never printed on the receipt
    # the owner sees it as theirs; a window of another community may not file for them
    assert cases.get_case(case.pk, owner).pk == case.pk
    with pytest.raises(Forbidden):
        file_shop(users.clerk_yangchenghu2, 2, on_behalf_of=owner)


def test_shop_filed_by_itself_and_refused_or_confirmed(users):
    owner = account("shop_test_2", "person", XIANGCHENG)
    first = file_shop(owner, 1)
    assert (first.state, first.pending_role, first.pending_level) == (
        "submitted",
        "clerk",
        "community",
    )
    with pytest.raises(Forbidden):
        act(first, owner, "confirm")
    first = act(first, users.clerk_yangchenghu1, "refuse", comment="营业执照与经营地址不符")
    second = act(file_shop(owner, 2), users.clerk_yangchenghu1, "confirm")
    assert (first.outcome, second.outcome) == ("refused", "completed")
    with pytest.raises(Invalid) as exc:
        file_shop(owner, 3, id_number=id_number(3)[:-1] + "0", contact_phone="12345")
    assert set(exc.value.fields) == {"id_number", "contact_phone"}


def payload_of_submission(case) -> dict:
    return json.loads(case.events.get(kind="submitted").body)["payload"]
