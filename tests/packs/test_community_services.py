"""Community-service packs through the service layer: dispute mediation (instalment
reminders, the agreement PDF), food-safety sampling (computed verdicts, spawned enforcement,
the publication list) and home-based work (income per person per month)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tongban.services import cases
from tongban.services.audit import verify_all
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.followups import sweep_reminders
from tongban.services.reports import food, home_work, mediation
from tongban.store.models import Case, Membership, Org, Outbox, Profile, Reminder

TZ = ZoneInfo("Asia/Shanghai")
XIANGCHENG = "320507103001"  # 湘城社区, 阳澄湖镇
WEITANG_COMMUNITY = "320507102001"  # 渭塘社区, 渭塘镇


def at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=TZ)


def act(case, user, action, now=None, **kw) -> Case:
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw), now=now)


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def audit_ok(*items) -> None:
    ids = [c.pk for c in items]
    assert [f for _, f in verify_all(ids)] == [None] * len(ids)


# ---------------------------------------------------------------------------------------------
# 矛盾纠纷调解
# ---------------------------------------------------------------------------------------------

PARTIES = [
    {
        "party_role": "申请人",
        "party_name": "张三",
        "party_id_card": "11010519491231002X",
        "party_phone": "13812345678",
        "party_address": "阳澄湖镇湘城大街 18 号",
    },
    {"party_role": "被申请人", "party_name": "王小明", "party_phone": "139 0000 1111"},
]
DISPUTE = {
    "dispute_type": "房屋租赁",
    "dispute_amount": "2,800",
    "dispute_summary": "被申请人租住申请人房屋，拖欠 2026 年 8 月至 10 月房租及水电费共 2800 元。",
    "mediation_request": "请求被申请人支付拖欠的房租和水电费 2800 元。",
    "parties": PARTIES,
    "preferred_mode": "线下调解",
    "mediation_consent": True,
}
PLAN = [
    {"due_date": "2026-11-10", "instalment_amount": 1000, "paid": False},
    {"due_date": "2026-11-20", "instalment_amount": 1000, "paid": False},
    {"due_date": "2026-11-30", "instalment_amount": 800, "paid": False},
]
TERMS = (
    "一、被申请人王小明确认拖欠申请人张三房租及水电费共计人民币 2800 元。\n"
    "二、被申请人分三期支付：2026 年 11 月 10 日前 1000 元，11 月 20 日前 1000 元，"
    "11 月 30 日前 800 元。\n三、双方就本纠纷再无其他争议。"
)


def file_dispute(users, now=None, **data) -> Case:
    return cases.submit(
        "dispute_mediation", users.zhangsan, {**DISPUTE, **data}, now=now or at("2026-11-02")
    )


def to_mediating(users) -> Case:
    case = file_dispute(users)
    act(case, users.mediator_yangchenghu, "accept", now=at("2026-11-02", "14:00"))
    return case


def second_mediator():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username="mediator_test_2", first_name="李调解")
    Profile.objects.create(user=user, kind="staff", display_name="李调解")
    Membership.objects.create(user=user, org=Org.objects.get(code="320507103"), role="mediator")
    return user


def agree(users, case, plan=PLAN) -> Case:
    return act(
        case,
        users.mediator_yangchenghu,
        "agree",
        now=at("2026-11-05", "16:00"),
        data={"agreement_terms": TERMS, "instalments": plan},
    )


def reminded(case) -> list[int]:
    return sorted(Reminder.objects.filter(case=case).values_list("row", flat=True))


def test_mediation_agreement_instalments_reminders_and_pdf(users, tmp_path):
    case = file_dispute(users)
    assert case.state == "submitted" and case.pending_role == "mediator"
    assert case.data["dispute_amount"] == 2800 and len(case.data["parties"]) == 2
    assert case.data["agreed_total"] == 0 and case.data["instalment_count"] == 0

    act(case, users.mediator_yangchenghu, "accept", now=at("2026-11-02", "14:00"))
    act(
        case,
        users.mediator_yangchenghu,
        "session",
        now=at("2026-11-04"),
        data={
            "session_date": "2026-11-04",
            "session_mode": "线下",
            "session_place": "阳澄湖镇人民调解委员会调解室",
            "session_notes": "双方到场，被申请人承认欠款，提出分三期支付。",
        },
    )
    act(
        case,
        users.mediator_yangchenghu,
        "session",
        now=at("2026-11-05"),
        data={
            "session_date": "2026-11-05",
            "session_mode": "线上",
            "session_notes": "确认分期方案。",
        },
    )
    assert fresh(case).state == "mediating"
    agree(users, case)
    case = fresh(case)
    assert case.state == "performing"
    assert case.data["agreed_total"] == 2800 and case.data["instalment_count"] == 3

    # The street's second mediator takes over the follow-up (转交): they are the handler now.
    m2 = second_mediator()
    act(case, users.mediator_yangchenghu, "assign", now=at("2026-11-06"), assignee_id=m2.pk)
    assert fresh(case).handler_id == m2.pk

    # Nothing due yet; then the first instalment is paid on time. (The sweep covers every
    # case, the demo's too: the assertions look at this case.)
    sweep_reminders(now=at("2026-11-09"))
    assert reminded(case) == []
    paid_first = [dict(PLAN[0], paid=True), *PLAN[1:]]
    with pytest.raises(Forbidden):  # only the handler may act once the case is transferred
        act(case, users.mediator_yangchenghu, "record_payment", comment="x", data={})
    act(
        case,
        m2,
        "record_payment",
        now=at("2026-11-10", "15:00"),
        comment="已收到第一期 1000 元（微信转账）",
        data={"instalments": paid_first},
    )
    sweep_reminders(now=at("2026-11-11"))
    assert reminded(case) == []  # paid on time: no reminder

    # The second instalment is missed: one reminder to the applicant, the handler and the
    # street's mediators — once, however often the worker sweeps.
    assert sweep_reminders(now=at("2026-11-21", "08:00")) >= 1
    assert reminded(case) == [1]
    sweep_reminders(now=at("2026-11-21", "08:05"))
    sweep_reminders(now=at("2026-11-25"))
    assert reminded(case) == [1]
    rows = Outbox.objects.filter(case=case, topic="reminder")
    path = "320507/320507103/320507103001"
    assert sorted(rows.values_list("recipient", flat=True)) == sorted(
        [f"user:{users.zhangsan.pk}", f"user:{m2.pk}", f"role:mediator@{path}"]
    )
    assert {r.payload["due"] for r in rows} == {"2026-11-20"}

    # The agreement PDF: Chinese text in the embedded Noto Sans CJK face.
    pdf = mediation.agreement_pdf(fresh(case))
    assert pdf.startswith(b"%PDF")
    assert b"NotoSansCJK" in pdf
    if shutil.which("pdffonts"):
        (tmp_path / "a.pdf").write_bytes(pdf)
        out = subprocess.run(
            ["pdffonts", str(tmp_path / "a.pdf")], capture_output=True, check=True
        ).stdout.decode()
        assert "NotoSansCJK" in out and "yes" in out  # embedded
    doc = mediation.agreement_doc(fresh(case))
    assert doc.committee == "阳澄湖镇人民调解委员会"
    assert doc.agreed_on == "2026-11-05" and doc.total == 2800
    assert [s.mode for s in doc.sessions] == ["线下", "线上"]
    assert [i.paid for i in doc.instalments] == [True, False, False]
    assert doc.parties[0].id_card == "110105********002X"  # masked on paper too

    all_paid = [dict(r, paid=True) for r in PLAN]
    act(
        case,
        m2,
        "record_payment",
        now=at("2026-11-29"),
        comment="余款已付清",
        data={"instalments": all_paid},
    )
    act(case, m2, "confirm_fulfilled", now=at("2026-11-30"))
    case = fresh(case)
    assert case.state == "fulfilled" and case.outcome == "completed"
    sweep_reminders(now=at("2026-12-05"))
    assert reminded(case) == [1]  # a closed case is not reminded
    audit_ok(case)


def test_mediation_agreement_needs_terms_and_a_plan(users):
    case = to_mediating(users)
    with pytest.raises(Conflict):  # no instalments
        act(case, users.mediator_yangchenghu, "agree", data={"agreement_terms": TERMS})
    with pytest.raises(Conflict):  # no terms
        act(case, users.mediator_yangchenghu, "agree", data={"instalments": PLAN})
    with pytest.raises(Invalid):
        act(
            case,
            users.mediator_yangchenghu,
            "agree",
            data={"agreement_terms": TERMS, "instalments": [{"due_date": "2026-13-01"}]},
        )
    assert fresh(case).state == "mediating"
    with pytest.raises(NotFound):  # no agreement yet, no agreement PDF
        mediation.agreement_pdf(fresh(case))


def test_mediation_settled_on_the_spot(users):
    case = to_mediating(users)
    act(
        case,
        users.mediator_yangchenghu,
        "agree_done",
        now=at("2026-11-03"),
        data={"agreement_terms": "被申请人当场支付 2800 元，双方再无争议。"},
    )
    case = fresh(case)
    assert case.state == "fulfilled" and case.outcome == "completed"
    assert mediation.agreement_pdf(case).startswith(b"%PDF")
    assert mediation.agreement_doc(case).instalments == ()
    audit_ok(case)


def test_mediation_failure_is_closed_with_a_referral(users):
    case = to_mediating(users)
    with pytest.raises(Invalid):  # the referral comment is required
        act(case, users.mediator_yangchenghu, "fail", data={"referral": "向人民法院起诉"})
    act(
        case,
        users.mediator_yangchenghu,
        "fail",
        comment="被申请人拒绝调解，已告知申请人可向相城区人民法院起诉。",
        data={"referral": "向人民法院起诉"},
    )
    case = fresh(case)
    assert case.state == "failed" and case.outcome == "closed"
    body = case.events.get(action="fail").body
    assert "向人民法院起诉" in body and "相城区人民法院" in body
    with pytest.raises(NotFound):
        mediation.agreement_pdf(case)
    audit_ok(case)


def test_mediation_breach_refusal_withdrawal_and_roles(users):
    case = to_mediating(users)
    agree(users, case)
    act(
        case,
        users.mediator_yangchenghu,
        "breach",
        comment="被申请人逾期未付，已告知申请人申请司法确认后申请强制执行。",
        data={"referral": "申请司法确认后申请强制执行"},
    )
    assert (fresh(case).state, fresh(case).outcome) == ("breached", "closed")

    refused = file_dispute(users)
    with pytest.raises((Forbidden, NotFound)):  # a window clerk is not a mediator
        act(refused, users.clerk_yangchenghu, "accept")
    with pytest.raises(NotFound):  # another street's mediator does not see it
        act(refused, users.mediator_canglang, "accept")
    with pytest.raises(Invalid):
        act(refused, users.mediator_yangchenghu, "refuse")
    act(refused, users.mediator_yangchenghu, "refuse", comment="纠纷已起诉至人民法院，不予受理")
    assert fresh(refused).outcome == "refused"

    withdrawn = to_mediating(users)
    with pytest.raises(Forbidden):  # only the applicant withdraws
        act(withdrawn, users.mediator_yangchenghu, "withdraw")
    act(withdrawn, users.zhangsan, "withdraw")
    assert fresh(withdrawn).outcome == "withdrawn"

    # The street head assigns a mediator (转交) before acceptance; the assignee accepts.
    assigned = file_dispute(users)
    m2 = second_mediator()
    act(assigned, users.head_yangchenghu, "assign", assignee_id=m2.pk)
    with pytest.raises(Forbidden):
        act(assigned, users.mediator_yangchenghu, "accept")
    act(assigned, m2, "accept")
    assert fresh(assigned).state == "mediating"
    audit_ok(case, refused, withdrawn, assigned)


def test_mediation_missing_party_fields_are_reported(users):
    with pytest.raises(Invalid) as exc:
        file_dispute(users, parties=[{"party_role": "申请人", "party_name": "张三"}])
    assert "parties" in exc.value.fields


def test_agreement_pdf_download_is_limited_to_who_sees_the_case(users, client):
    case = to_mediating(users)
    agree(users, case)
    url = f"/reports/mediation/{case.pk}/agreement.pdf"
    assert client.get(url).status_code == 302  # login first
    client.force_login(users.zhangsan)
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    client.force_login(users.mediator_yangchenghu)
    assert client.get(url).status_code == 200
    client.force_login(users.lisi)
    assert client.get(url).status_code == 404
    client.force_login(users.mediator_canglang)
    assert client.get(url).status_code == 404
    client.force_login(users.zhangsan)
    other = file_dispute(users)
    assert client.get(f"/reports/mediation/{other.pk}/agreement.pdf").status_code == 404


# ---------------------------------------------------------------------------------------------
# 食品安全抽检
# ---------------------------------------------------------------------------------------------

PEROXIDE_FAIL = {
    "indicator": "过氧化值(以脂肪计)",
    "result_value": "0.55",
    "result_unit": "g/100g",
    "compare_op": "≤",
    "limit_value": "0.25",
    "test_basis": "GB 7099-2015",
}
ACID_OK = {
    "indicator": "酸价(以脂肪计)(KOH)",
    "result_value": "2.1",
    "result_unit": "mg/g",
    "compare_op": "≤",
    "limit_value": "5",
}
COLONIES_OK = {
    "indicator": "菌落总数",
    "result_value": "800",
    "result_unit": "CFU/g",
    "compare_op": "≤",
    "limit_value": "100000",
}


def sample(no: str, results, **extra) -> dict:
    return {
        "sample_no": no,
        "food_name": "桃酥",
        "food_category": "糕点",
        "sampling_stage": "流通",
        "sampled_unit": "相城区阳澄湖镇某某副食品商店",
        "sampled_unit_address": "阳澄湖镇湘城大街 66 号",
        "producer_name": "苏州某某食品有限公司",
        "batch_no": "2026-10-08",
        "sample_date": "2026-10-20",
        "results": results,
        **extra,
    }


def file_sample(users, no, results, now=None, **extra) -> Case:
    return cases.submit(
        "food_sampling",
        users.sampler_xiangcheng,
        sample(no, results, **extra),
        org_code=XIANGCHENG,
        now=now or at("2026-10-21"),
    )


def enforcement_of(case):
    return Case.objects.filter(parent=case, matter_code="food_enforcement")


def test_failing_sample_spawns_exactly_one_enforcement_case(users):
    case = file_sample(users, "GC26320507001", [ACID_OK, PEROXIDE_FAIL])
    assert case.state == "review" and case.pending_role == "inspector"
    assert case.data["verdict"] == "不合格"
    assert case.data["verdict_failed"] == ["过氧化值(以脂肪计)"]
    assert case.data["indicator_count"] == 2
    with pytest.raises(Conflict):  # a failing sample cannot be published as passing
        act(case, users.inspector_xiangcheng, "publish_pass")
    with pytest.raises(Invalid):  # confirming a failure needs a comment
        act(case, users.inspector_xiangcheng, "publish_fail")
    act(case, users.inspector_xiangcheng, "publish_fail", comment="复核检验数据无误，结论不合格")
    case = fresh(case)
    assert case.state == "published" and case.outcome == "completed"

    spawned = enforcement_of(case)
    assert spawned.count() == 1
    enf = spawned.get()
    assert enf.state == "control" and enf.pending_role == "market_enforcer"
    assert enf.org_id == case.org_id and enf.applicant_id == case.applicant_id
    for key in ("sample_no", "food_name", "food_category", "sampled_unit", "batch_no"):
        assert enf.data[key] == case.data[key]
    assert enf.data["results"] == case.data["results"]
    assert enf.data["verdict"] == "不合格"
    assert enf.data["verdict_failed"] == ["过氧化值(以脂肪计)"]
    assert food.failing_details(enf.data) == (
        "过氧化值(以脂肪计)：0.55 g/100g（标准 ≤0.25 g/100g）",
    )
    audit_ok(case, enf)


def test_passing_sample_spawns_nothing(users):
    case = file_sample(users, "GC26320507002", [ACID_OK, COLONIES_OK])
    assert case.data["verdict"] == "合格" and case.data["verdict_failed"] == []
    with pytest.raises(Conflict):
        act(case, users.inspector_xiangcheng, "publish_fail", comment="x")
    act(case, users.inspector_xiangcheng, "publish_pass")
    assert fresh(case).state == "published"
    assert not enforcement_of(case).exists()
    assert not Case.objects.filter(matter_code="food_enforcement", parent=case).exists()
    audit_ok(case)


def test_verdict_is_computed_never_typed(users):
    case = file_sample(users, "GC26320507003", [PEROXIDE_FAIL], verdict="合格", verdict_failed=[])
    assert case.data["verdict"] == "不合格"
    assert case.data["verdict_failed"] == ["过氧化值(以脂肪计)"]
    act(case, users.inspector_xiangcheng, "send_back", comment="请核对过氧化值的检验数据")
    assert fresh(case).pending_role == "applicant"
    # Resubmitting with a typed verdict changes nothing; correcting the results does.
    act(case, users.sampler_xiangcheng, "resubmit", data={"verdict": "合格"})
    assert fresh(case).data["verdict"] == "不合格"
    act(case, users.inspector_xiangcheng, "send_back", comment="请核对")
    act(
        case,
        users.sampler_xiangcheng,
        "resubmit",
        data={"results": [dict(PEROXIDE_FAIL, result_value="0.15")], "verdict": "不合格"},
    )
    case = fresh(case)
    assert case.state == "review" and case.data["verdict"] == "合格"
    act(case, users.inspector_xiangcheng, "publish_pass")
    assert not enforcement_of(case).exists()
    audit_ok(case)


def test_sampling_refusals_void_and_roles(users):
    case = file_sample(users, "GC26320507004", [COLONIES_OK])
    with pytest.raises(Forbidden):  # the sampler does not review their own sample
        act(case, users.sampler_xiangcheng, "publish_pass")
    with pytest.raises(NotFound):  # another district's inspector does not see it
        act(case, users.inspector_gusu, "publish_pass")
    with pytest.raises(Invalid):
        act(case, users.inspector_xiangcheng, "void")
    act(case, users.inspector_xiangcheng, "void", comment="样品运输中破损，作废")
    assert (fresh(case).state, fresh(case).outcome) == ("voided", "closed")
    with pytest.raises(Invalid) as exc:  # results are required, each with a limit
        file_sample(users, "GC26320507005", [{"indicator": "铅", "result_value": "0.1"}])
    assert "results" in exc.value.fields
    audit_ok(case)


def test_food_enforcement_workflow(users):
    case = file_sample(users, "GC26320507006", [PEROXIDE_FAIL])
    act(case, users.inspector_xiangcheng, "publish_fail", comment="不合格")
    enf = enforcement_of(case).get()
    enforcer = users.market_enforcer_xiangcheng
    with pytest.raises((Forbidden, NotFound)):  # the inspector does not enforce
        act(enf, users.inspector_xiangcheng, "stop_sales", comment="x")
    with pytest.raises(Invalid):  # measures are required
        act(enf, enforcer, "stop_sales", comment="已责令停止销售")
    act(
        enf,
        enforcer,
        "stop_sales",
        comment="已责令停止销售并下架封存同批次产品",
        data={
            "control_date": "2026-10-22",
            "control_measures": ["停止销售", "下架封存"],
            "controlled_quantity": 36,
        },
    )
    act(
        enf,
        enforcer,
        "find_cause",
        data={"cause_category": "贮存运输条件不当", "cause_detail": "店内高温贮存，油脂氧化"},
    )
    act(enf, enforcer, "not_rectified", comment="复查时仍在高温处存放")
    assert fresh(enf).state == "investigating"
    act(
        enf,
        enforcer,
        "find_cause",
        data={"cause_category": "贮存运输条件不当", "cause_detail": "同上"},
    )
    act(
        enf,
        enforcer,
        "rectified",
        comment="已整改，改为阴凉处存放",
        data={"rectify_check_date": "2026-11-10", "handling_result": "责令改正"},
    )
    enf = fresh(enf)
    assert enf.state == "closed" and enf.outcome == "completed"

    other = file_sample(users, "GC26320507007", [PEROXIDE_FAIL])
    act(other, users.inspector_xiangcheng, "publish_fail", comment="不合格")
    enf2 = enforcement_of(other).get()
    act(enf2, enforcer, "retest_cleared", comment="经营者申请复检，复检结论合格")
    assert (fresh(enf2).state, fresh(enf2).outcome) == ("cleared", "closed")
    audit_ok(case, enf, other, enf2)


def test_publication_counts_on_a_known_set(users, client):
    # Five samples published in June 2025 (one fails), one published in July, one still
    # under review, one voided: June shows 5 batches, 4 passed, 1 failed.
    june = [
        ("GC25060001", [ACID_OK], "2025-06-03"),
        ("GC25060002", [ACID_OK, COLONIES_OK], "2025-06-05"),
        ("GC25060003", [ACID_OK, PEROXIDE_FAIL], "2025-06-10"),
        ("GC25060004", [COLONIES_OK], "2025-06-18"),
        ("GC25060005", [COLONIES_OK], "2025-06-30"),
    ]
    made = []
    for no, results, day in june:
        c = file_sample(users, no, results, now=at("2025-06-02"))
        action = "publish_pass" if c.data["verdict"] == "合格" else "publish_fail"
        act(c, users.inspector_xiangcheng, action, comment="审核", now=at(day, "17:00"))
        made.append(c)
    july = file_sample(users, "GC25070001", [ACID_OK], now=at("2025-06-20"))
    act(july, users.inspector_xiangcheng, "publish_pass", now=at("2025-07-01", "09:00"))
    file_sample(users, "GC25060006", [ACID_OK], now=at("2025-06-20"))  # under review
    void = file_sample(users, "GC25060007", [PEROXIDE_FAIL], now=at("2025-06-20"))
    act(void, users.inspector_xiangcheng, "void", comment="作废", now=at("2025-06-21"))

    pub = food.publication("2025-06-01", "2025-06-30")
    assert (pub.total, pub.passed, pub.failed) == (5, 4, 1)
    assert pub.pass_rate == 0.8
    assert [r.sample_no for r in pub.rows] == [no for no, _, _ in june]
    failed = [r for r in pub.rows if r.verdict == "不合格"]
    assert [(r.sample_no, r.failed) for r in failed] == [
        ("GC25060003", ("过氧化值(以脂肪计)：0.55 g/100g（标准 ≤0.25 g/100g）",))
    ]
    assert pub.by_category == ({"category": "糕点", "total": 5, "passed": 4, "failed": 1},)
    assert food.publication("2025-07-01", "2025-07-31").total == 1

    r = client.get("/reports/food/?from=2025-06-01&to=2025-06-30")  # public page
    assert r.status_code == 200
    page = r.content.decode()
    assert "共公示食品安全监督抽检 <strong>5</strong> 批次" in page
    assert "不合格 <strong>1</strong> 批次" in page
    assert "GC25060003" in page and "过氧化值(以脂肪计)：0.55 g/100g" in page
    assert "GC25060006" not in page and "GC25060007" not in page
    assert client.get("/reports/food/?from=2025-06-31").status_code == 400
    audit_ok(*made, july, void)


# ---------------------------------------------------------------------------------------------
# 残疾人居家就业
# ---------------------------------------------------------------------------------------------


def person(username: str, name: str, org_code: str):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username=username, first_name=name)
    Profile.objects.create(
        user=user, kind="person", display_name=name, home_org=Org.objects.get(code=org_code)
    )
    return user


ORDER = {
    "worker_name": "赵一",
    "id_number": "11010519491231002X",
    "contact_phone": "13912345678",
    "home_address": "渭塘镇渭塘社区 3 幢 201 室",
    "order_product": "手工编织杯垫",
    "order_quantity": 100,
    "piece_rate": "1.2",
    "drop_point": "家门口",
}


def order(worker, now, **data) -> Case:
    return cases.submit("home_work_order", worker, {**ORDER, **data}, now=now)


def run_order(users, worker, *, accepted, rate, paid_date, paid_amount=None, product=None):
    """One order from confirmation to payment, by 渭塘镇's 残联专干."""
    staff = users.disability_worker_weitang
    case = order(worker, at(paid_date[:8] + "01"), worker_name=worker.first_name)
    act(
        case,
        staff,
        "confirm_order",
        data={"piece_rate": rate, **({"order_product": product} if product else {})},
    )
    act(
        case,
        staff,
        "deliver",
        data={"delivery_date": paid_date[:8] + "02", "delivered_materials": "棉线 2 卷"},
    )
    act(case, staff, "pick_up", data={"pickup_date": paid_date, "picked_quantity": accepted + 2})
    act(case, staff, "pass_check", data={"accepted_quantity": accepted, "rejected_quantity": 2})
    amount = paid_amount if paid_amount is not None else round(accepted * float(rate), 2)
    act(
        case,
        staff,
        "pay",
        data={"paid_amount": amount, "paid_date": paid_date, "pay_method": "银行转账"},
    )
    return fresh(case)


def test_home_work_order_happy_path(users):
    worker = person("hw_zhao", "赵一", WEITANG_COMMUNITY)
    staff = users.disability_worker_weitang
    case = order(worker, at("2026-11-02"))
    assert case.state == "submitted" and case.pending_role == "disability_worker"
    with pytest.raises(NotFound):  # 阳澄湖镇's worker does not see 渭塘镇's orders
        act(case, users.disability_worker_yangchenghu, "confirm_order")
    act(case, staff, "confirm_order", now=at("2026-11-02", "15:00"), data={"piece_rate": "1.5"})
    assert fresh(case).data["piece_rate"] == 1.5
    act(
        case,
        staff,
        "deliver",
        now=at("2026-11-03"),
        data={"delivery_date": "2026-11-03", "delivered_materials": "棉线 5 卷、说明书"},
    )
    act(case, worker, "ready", now=at("2026-11-12"), comment="已完成 100 件，请上门收货")
    act(
        case,
        staff,
        "pick_up",
        now=at("2026-11-13"),
        data={"pickup_date": "2026-11-13", "picked_quantity": 100},
    )
    with pytest.raises(Conflict):  # nothing accepted: rework instead
        act(case, staff, "pass_check", data={"accepted_quantity": 0, "rejected_quantity": 100})
    act(
        case,
        staff,
        "pass_check",
        now=at("2026-11-13", "16:00"),
        data={"accepted_quantity": 96, "rejected_quantity": 4, "check_note": "4 件线头未收好"},
    )
    assert fresh(case).state == "settling"
    act(
        case,
        staff,
        "pay",
        now=at("2026-11-20"),
        data={"paid_amount": 144, "paid_date": "2026-11-20", "pay_method": "银行转账"},
    )
    case = fresh(case)
    assert case.state == "paid" and case.outcome == "completed"
    audit_ok(case)


def test_home_work_returns_and_refusals(users):
    worker = person("hw_qian", "钱二", WEITANG_COMMUNITY)
    staff = users.disability_worker_weitang
    declined = order(worker, at("2026-11-02"))
    with pytest.raises(Invalid):
        act(declined, staff, "decline")
    act(declined, staff, "decline", comment="本月订单已派完")
    assert fresh(declined).outcome == "refused"

    withdrawn = order(worker, at("2026-11-02"))
    with pytest.raises(Forbidden):
        act(withdrawn, staff, "withdraw")
    act(withdrawn, worker, "withdraw")
    assert fresh(withdrawn).outcome == "withdrawn"

    reworked = order(worker, at("2026-11-02"))
    act(reworked, staff, "confirm_order")
    act(
        reworked,
        staff,
        "deliver",
        data={"delivery_date": "2026-11-03", "delivered_materials": "棉线"},
    )
    with pytest.raises(Forbidden):  # the worker does not check their own work
        act(reworked, worker, "pick_up", data={"pickup_date": "2026-11-10", "picked_quantity": 100})
    act(reworked, staff, "pick_up", data={"pickup_date": "2026-11-10", "picked_quantity": 100})
    act(reworked, staff, "rework", comment="针脚过松，请返工")
    assert fresh(reworked).state == "producing"
    act(reworked, staff, "pick_up", data={"pickup_date": "2026-11-15", "picked_quantity": 100})
    act(reworked, staff, "pass_check", data={"accepted_quantity": 100, "rejected_quantity": 0})
    assert fresh(reworked).state == "settling"

    cancelled = order(worker, at("2026-11-02"))
    act(cancelled, staff, "confirm_order")
    act(cancelled, staff, "cancel", comment="本人住院，无法生产")
    assert (fresh(cancelled).state, fresh(cancelled).outcome) == ("cancelled", "closed")

    with pytest.raises(Invalid) as exc:
        order(worker, at("2026-11-02"), order_quantity="0", piece_rate="abc")
    assert set(exc.value.fields) == {"order_quantity", "piece_rate"}
    with pytest.raises(Invalid):  # a person's matter: not for an enterprise account
        cases.submit("home_work_order", users.ent_demo, ORDER)
    audit_ok(declined, withdrawn, reworked, cancelled)


def test_home_work_income_per_person_per_month(users, client):
    zhao = person("hw_zhao2", "赵一", WEITANG_COMMUNITY)
    qian = person("hw_qian2", "钱二", "320507102002")  # 凤凰泾村
    made = [
        run_order(users, zhao, accepted=96, rate="1.5", paid_date="2026-11-20"),  # 144.00
        run_order(users, zhao, accepted=200, rate="0.35", paid_date="2026-11-28", product="纸盒"),
        run_order(users, zhao, accepted=50, rate="2", paid_date="2026-10-30"),  # October
        run_order(users, qian, accepted=33, rate="0.85", paid_date="2026-11-05", paid_amount=28),
    ]
    unpaid = order(zhao, at("2026-11-01"))
    act(unpaid, users.disability_worker_weitang, "confirm_order")

    scope = home_work.scope_for(users.disability_worker_weitang)
    rep = home_work.income(scope, home_work.month("2026-11"))
    got = {p.name: (p.accepted, str(p.income), str(p.paid), len(p.orders)) for p in rep.people}
    assert got == {
        "赵一": (296, "214.00", "214.00", 2),  # 96 × 1.5 + 200 × 0.35
        "钱二": (33, "28.05", "28.00", 1),  # 33 × 0.85; 28 paid: flagged
    }
    assert str(rep.income) == "242.05" and rep.orders == 3
    assert [p.differs for p in rep.people] == [False, True]
    october = home_work.income(scope, home_work.month("2026-10"))
    assert [(p.name, str(p.income)) for p in october.people] == [("赵一", "100.00")]

    narrowed = home_work.income(
        home_work.scope_for(users.disability_worker_weitang, "320507102002"),
        home_work.month("2026-11"),
    )
    assert [p.name for p in narrowed.people] == ["钱二"]
    other = home_work.income(
        home_work.scope_for(users.disability_worker_yangchenghu), home_work.month("2026-11")
    )
    assert "赵一" not in [p.name for p in other.people]
    with pytest.raises(Forbidden):
        home_work.scope_for(users.zhangsan)
    with pytest.raises(Invalid):
        home_work.month("2026-13")

    url = "/reports/home-work/?month=2026-11"
    assert client.get(url).status_code == 302
    client.force_login(users.zhangsan)
    assert client.get(url).status_code == 403
    client.force_login(users.disability_worker_weitang)
    r = client.get(url)
    assert r.status_code == 200
    page = r.content.decode()
    assert "赵一" in page and "214.00" in page and "28.05" in page and "242.05" in page
    assert client.get("/reports/home-work/?month=2026-1x").status_code == 400
    client.force_login(users.supervisor_xiangcheng)
    assert "214.00" in client.get(url).content.decode()
    audit_ok(*made, unpaid)


# ---------------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------------


def test_demo_builds_its_cases_once(users):
    from tongban.services.demo_packs import community_services

    keys = {
        "demo-mediation-rent",
        "demo-mediation-wage",
        "demo-food-sampling",
        "demo-home-work-paid",
        "demo-home-work-open",
        "demo-home-work-lisi",
    }
    community_services.build()
    made = Case.objects.filter(idempotency_key__in=keys)
    assert set(made.values_list("idempotency_key", flat=True)) == keys
    rent = made.get(idempotency_key="demo-mediation-rent")
    assert rent.state == "performing" and rent.data["agreed_total"] == 2800
    assert mediation.agreement_pdf(rent).startswith(b"%PDF")
    sweep_reminders()
    assert reminded(rent) == [1]  # the second instalment is overdue and unpaid
    sampled = Case.objects.filter(matter_code="food_sampling", created_by=users.sampler_xiangcheng)
    assert sampled.count() == 7
    failing = [c for c in sampled if c.data["verdict"] == "不合格"]
    assert len(failing) == 1 and enforcement_of(failing[0]).get().state == "investigating"
    pub = food.publication()
    assert (pub.total, pub.passed, pub.failed) == (6, 5, 1)
    rep = home_work.income_for(users.disability_worker_yangchenghu)
    assert [(p.name, str(p.income)) for p in rep.people] == [("张三", "144.00")]

    before = Case.objects.count()
    community_services.build()
    assert Case.objects.count() == before
    audit_ok(*Case.objects.filter(matter_code__in=community_services.MATTERS))


def test_amounts_in_capital_numerals():
    from tongban.documents.agreement import rmb_upper

    assert rmb_upper(2800) == "人民币贰仟捌佰元整"
    assert rmb_upper(1005.3) == "人民币壹仟零伍元叁角"
    assert rmb_upper(100100) == "人民币壹拾万零壹佰元整"
    assert rmb_upper(20000000.01) == "人民币贰仟万元零壹分"
