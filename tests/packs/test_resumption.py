"""企业复工复产备案 and 个体工商户复业登记 through the service layer, the resumption-rate
figures on a known set, and the report page. Times are fixed in March 2025 (the demo cases
are in the present), so the figures and certificate numbers are exact."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client

from tongban.engine.validators import id_check_digit, uscc_check_digit
from tongban.services import cases, followups, stats
from tongban.services.audit import verify_all
from tongban.services.demo import DEMO_PASSWORD, sample_pdf
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.reports import resumption
from tongban.services.uploads import store
from tongban.store.models import Case, Certificate, FollowupReport, Org, Outbox, Profile

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday
XIANGCHENG = "320507103001"  # 湘城社区, 阳澄湖镇
XIANGCHENG_GRID = "32050710300101"  # 湘城社区第一网格
MARCH = stats.period("2025-03-01", "2025-03-31")
ENTERPRISE_MATERIALS = (
    "commitment_letter",
    "resumption_plan",
    "emergency_plan",
    "supplies_list",
    "facilities",
)


def uscc(n: int) -> str:
    first17 = f"91320507MA2{n:06d}"
    return first17 + uscc_check_digit(first17)


def id_number(n: int) -> str:
    first17 = f"32050719850505{n:03d}"
    return first17 + id_check_digit(first17)


def pdfs(user, *keys: str) -> dict:
    return {k: [store(sample_pdf(k), f"{k}.pdf", user)] for k in keys}


def enterprise(n: int = 1, **changes) -> dict:
    return {
        "company_name": f"苏州测试{n}号制造有限公司",
        "credit_code": uscc(n),
        "contact_name": "赵经理",
        "contact_phone": "138 1234 5678",
        "business_address": "阳澄湖镇湘城工业园 8 号",
        "industry": "工业制造",
        "employee_count": "120",
        "returning_count": "80",
        "resume_date": "2025-03-05",
        **changes,
    }


def shop(n: int = 1, **changes) -> dict:
    return {
        "shop_name": f"湘城{n}号小吃店",
        "operator_name": "钱小二",
        "id_number": id_number(n),
        "contact_phone": "13912340000",
        "business_address": "阳澄湖镇湘城大街 66 号",
        "business_type": "餐饮",
        **changes,
    }


def account(username: str, kind: str, org_code: str):
    user = get_user_model().objects.create_user(username, password=DEMO_PASSWORD)
    Profile.objects.create(
        user=user, kind=kind, display_name=username, home_org=Org.objects.get(code=org_code)
    )
    return user


def file_enterprise(user, n: int = 1, *, org_code: str | None = XIANGCHENG_GRID, now=T0, **data):
    return cases.submit(
        "resumption_filing",
        user,
        enterprise(n, **data),
        materials=pdfs(user, *ENTERPRISE_MATERIALS),
        org_code=org_code,
        now=now,
    )


def file_shop(user, n: int = 1, *, on_behalf_of=None, now=T0, **data):
    return cases.submit(
        "shop_reopening",
        user,
        shop(n, **data),
        materials=pdfs(user, "business_license"),
        on_behalf_of=on_behalf_of,
        now=now,
    )


def act(case, user, action, now=None, **kw) -> Case:
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw), now=now)


def payload(case, action: str) -> dict:
    return json.loads(case.events.get(action=action).body)["payload"]


CHECK = {
    "check_date": "2025-03-04",
    "check_findings": "测温点、消杀记录齐全",
    "check_result": "符合复工条件",
}


def to_review(users, case, at=T0):
    act(case, users.clerk_yangchenghu1, "accept", at + timedelta(minutes=30))
    return case


def approved(users, case, at=T0) -> Case:
    to_review(users, case, at)
    return act(case, users.resumption_reviewer_yangchenghu, "approve", at + timedelta(hours=3))


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


# -- the resumption rate ------------------------------------------------------------------

WEITANG, WEITANG_1, WEITANG_2 = "320507102", "320507102001", "320507102002"  # 渭塘社区, 凤凰泾村


@pytest.fixture
def known(users):
    """In 渭塘镇, March 2025. 渭塘社区: enterprise A has its receipt; B was refused once,
    then got its receipt and stopped reporting; shops S1, S2 reopened. 凤凰泾村: enterprise
    C is still in review; shop S3 (filed by the window) reopened, S4 waits, S5 refused."""
    reviewer = users.resumption_reviewer_weitang
    clerk1, clerk2 = users.clerk_weitang1, users.clerk_weitang2
    a, b = account("ent_a", "enterprise", WEITANG_1), account("ent_b", "enterprise", WEITANG_1)
    c = account("ent_c", "enterprise", WEITANG_2)
    s = [account(f"shop_s{i}", "person", WEITANG_1 if i < 3 else WEITANG_2) for i in range(1, 6)]

    def receipt(user, n):
        case = file_enterprise(user, n, org_code=None)
        act(case, clerk1, "accept", T0 + timedelta(hours=1))
        return act(case, reviewer, "approve", T0 + timedelta(hours=2))

    receipt(a, 11)
    act(file_enterprise(b, 12, org_code=None), clerk1, "refuse", comment="材料不全")
    act(receipt(b, 12), reviewer, "stop_reports", T0 + timedelta(days=2), comment="正常")
    act(file_enterprise(c, 13, org_code=None), clerk2, "accept", T0 + timedelta(hours=1))
    act(file_shop(s[0], 21), clerk1, "confirm")
    act(file_shop(s[1], 22), clerk1, "confirm")
    act(file_shop(clerk2, 23, on_behalf_of=s[2]), clerk2, "confirm")
    file_shop(s[3], 24)
    act(file_shop(s[4], 25), clerk2, "refuse", comment="非本村经营户")


FIGURES = (
    "ent_filings",
    "receipts",
    "ent_reopened",
    "ent_registered",
    "shop_filings",
    "shop_reopened",
    "shop_registered",
)


def figures(row) -> tuple:
    return tuple(getattr(row, k) for k in FIGURES) + (row.rate,)


def test_rates_per_street_and_community_on_a_known_set(users, known):
    rates = resumption.resumption_rates(users.resumption_reviewer_weitang, period=MARCH)
    assert rates.scope.label == "渭塘镇" and len(rates.streets) == 1
    street = rates.streets[0]
    assert [c.name for c in street.children] == ["渭塘社区", "凤凰泾村"]
    assert figures(street.children[0]) == (3, 2, 2, 2, 2, 2, 2, 1.0)
    assert figures(street.children[1]) == (1, 0, 0, 1, 3, 1, 3, 0.25)
    assert figures(street) == (4, 2, 2, 3, 5, 3, 5, 0.625)
    assert figures(rates.total) == figures(street)
    assert (street.reopened, street.registered, street.ent_rate, street.shop_rate) == (
        5,
        8,
        0.6667,
        0.6,
    )
    assert "暂按" in rates.basis and "企业名录" in rates.basis
    assert rates.chart_data()["names"] == ["渭塘社区", "凤凰泾村"]
    ids = list(Case.objects.filter(j_street=WEITANG).values_list("pk", flat=True))
    assert len(ids) == 9 and [f for _, f in verify_all(ids)] == [None] * 9


def test_rates_for_a_district_supervisor_and_other_scopes(users, known):
    rates = resumption.resumption_rates(users.supervisor_xiangcheng, period=MARCH)
    by_name = {r.name: r for r in rates.streets}
    assert list(by_name) == ["元和街道", "黄埭镇", "渭塘镇", "阳澄湖镇"]  # in code order
    assert figures(by_name["渭塘镇"]) == (4, 2, 2, 3, 5, 3, 5, 0.625)
    assert figures(by_name["阳澄湖镇"])[:-1] == (0,) * 7 and by_name["阳澄湖镇"].rate is None
    assert figures(rates.total) == figures(by_name["渭塘镇"])
    narrowed = resumption.resumption_rates(users.supervisor_xiangcheng, WEITANG_2, period=MARCH)
    assert [r.name for r in narrowed.streets] == ["凤凰泾村"]
    assert figures(narrowed.total) == (1, 0, 0, 1, 3, 1, 3, 0.25)
    with pytest.raises(NotFound):
        resumption.resumption_rates(users.resumption_reviewer_weitang, XIANGCHENG)
    with pytest.raises(Forbidden):
        resumption.resumption_rates(users.zhangsan)
    with pytest.raises(Forbidden):
        resumption.resumption_rates(users.clerk_weitang1)


def test_registered_counts_come_from_the_given_source(users, known):
    class Registry:
        basis = "企业名录在册户数"

        def counts(self, cases, columns):
            return {(): (10, 30), ("320507", WEITANG): (10, 30)}

    rates = resumption.resumption_rates(
        users.resumption_reviewer_weitang, period=MARCH, denominators=Registry()
    )
    assert rates.basis == "企业名录在册户数"
    assert (rates.total.reopened, rates.total.registered, rates.total.rate) == (5, 40, 0.125)
    assert rates.streets[0].children[0].rate is None  # no registry figure for the community


def test_rate_of_the_reported_example():
    row = resumption.Row(
        "", "", "", ent_reopened=28, shop_reopened=80, ent_registered=40, shop_registered=120
    )
    assert (row.reopened, row.registered, row.rate) == (108, 160, 0.675)


# -- the page ------------------------------------------------------------------------------


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def test_report_page(users, known):
    client = login("resumption_reviewer_weitang")
    page = client.get("/reports/resumption/", {"from": "2025-03-01", "to": "2025-03-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "复工复产统计" in html and "vendor/echarts.min.js" in html
    assert "统计口径" in html and "企业名录建成后" in html
    assert 'id="s-rate">62.5%<' in html and "已复工企业 2 家、复业个体工商户 3 户" in html
    assert 'data-code="320507102002"' in html and "25.0%" in html
    assert (
        login("resumption_reviewer_weitang")
        .get("/reports/resumption/", {"from": "2025-02-30"})
        .status_code
        == 400
    )
    assert (
        login("supervisor_xiangcheng").get("/reports/resumption/", {"org": WEITANG}).status_code
        == 200
    )
    assert client.get("/reports/resumption/", {"org": XIANGCHENG}).status_code == 404
    assert login("zhangsan").get("/reports/resumption/").status_code == 403
    assert Client().get("/reports/resumption/").status_code == 302  # to the login page


# -- the demo ------------------------------------------------------------------------------


def test_demo_build_makes_every_step_once(users):
    from tongban.services.demo_packs import resumption as demo

    mine = Case.objects.filter(matter_code__in=resumption.MATTERS)
    assert not mine.exists()  # the test world has accounts, not demo cases
    demo.build()
    count = mine.count()
    assert count == len(demo.ENTERPRISES) + len(demo.SHOPS)
    demo.build()
    assert mine.count() == count
    steps = set(mine.filter(matter_code=resumption.ENTERPRISE).values_list("state", flat=True))
    assert steps == {s for *_, s in demo.ENTERPRISES}
    on_behalf = mine.filter(matter_code=resumption.SHOP).exclude(created_by=F("applicant"))
    assert on_behalf.count() == 2
    reporting = mine.get(applicant=users.ent_demo)
    assert reporting.state == "reporting" and reporting.reports.filter(missed=False).exists()
    assert Certificate.objects.filter(case=reporting, key="resumption_receipt").exists()
    assert [f for _, f in verify_all(list(mine.values_list("pk", flat=True)))] == [None] * count
