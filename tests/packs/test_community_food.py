"""Food-safety sampling through the service layer:
computed verdicts, spawned enforcement, the publication list."""

from __future__ import annotations

import pytest

from tests.packs.community import XIANGCHENG, act, at, audit_ok, enforcement_of, fresh
from tongban.services import cases
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.reports import food
from tongban.store.models import Case

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
