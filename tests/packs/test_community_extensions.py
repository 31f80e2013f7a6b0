"""延期 in the community packs: a mediation's 30 days and an enforcement's investigation may
each be extended once, before the deadline, with a reason; after the deadline, a second
time, in another step or by someone else, it is refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.packs.community import XIANGCHENG, act, at, audit_ok, enforcement_of, fresh
from tests.packs.mediation import file_dispute, to_mediating
from tongban.services import cases
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.worker import sweep
from tongban.store.models import Outbox

PASSED = "已超过办理时限，不能再申请延期，请尽快办结"


def payload(case, action):
    return json.loads(case.events.get(action=action).body)["payload"]


# -- 矛盾纠纷调解：延长调解期限（最多 15 天，一次）-----------------------------------------------


def test_mediation_extended_once_before_its_deadline(users):
    mediator = users.mediator_yangchenghu
    case = fresh(to_mediating(users))  # accepted 2026-11-02 14:00: 30 days to mediate
    assert case.deadline == at("2026-12-02", "14:00")
    assert "extend" in cases.allowed_actions(case, mediator)
    sent = Outbox.objects.filter(case=case).count()
    with pytest.raises(Invalid) as exc:
        act(case, mediator, "extend", now=at("2026-11-25"))
    assert exc.value.fields == {"comment": "请填写意见"}
    with pytest.raises(Invalid) as exc:
        act(case, mediator, "extend", now=at("2026-11-25"), comment="x", extension={"days": 20})
    assert (exc.value.message, exc.value.fields) == ("延期不能超过15天", {"extension": "最多15天"})
    with pytest.raises(NotFound):  # another street's mediator
        act(case, users.mediator_canglang, "extend", now=at("2026-11-25"), comment="x")
    with pytest.raises(Forbidden) as exc:  # the applicant cannot extend the mediation
        act(case, users.zhangsan, "extend", now=at("2026-11-25"), comment="x")
    assert exc.value.message.startswith("您没有执行「延长调解期限」的角色")

    reason = "被申请人在外地务工，12 月上旬返回后再组织面对面调解"
    case = act(case, mediator, "extend", now=at("2026-11-25"), comment=reason)
    assert (case.state, case.extensions) == ("mediating", 1)
    assert case.deadline == at("2026-12-17", "14:00")  # the full 15 days by default
    event = case.events.get(action="extend")
    assert (event.kind, event.from_state, event.to_state) == ("extended", "mediating", "mediating")
    assert reason in event.body
    assert payload(case, "extend")["extension"] == "15天"
    assert Outbox.objects.filter(case=case).count() == sent  # an extension tells no one
    assert sweep(now=at("2026-12-10")) == 0  # past the old deadline, within the new one
    assert not fresh(case).overdue

    assert "extend" not in cases.allowed_actions(case, mediator)
    with pytest.raises(Conflict) as exc:
        act(case, mediator, "extend", now=at("2026-12-10"), comment="再延一次")
    assert exc.value.message == "本环节最多延期 1 次"
    audit_ok(case)


def test_mediation_cannot_be_extended_after_its_deadline_or_before_acceptance(users):
    mediator = users.mediator_yangchenghu
    waiting = file_dispute(users)
    with pytest.raises(Conflict) as exc:
        act(waiting, mediator, "extend", now=at("2026-11-03"), comment="x")
    assert exc.value.message == "案件当前处于「待受理」，不能执行「延长调解期限」"

    case = to_mediating(users)
    with pytest.raises(Conflict) as exc:  # the deadline has passed, swept or not
        act(case, mediator, "extend", now=at("2026-12-02", "14:00"), comment="x")
    assert (exc.value.code, exc.value.message) == ("deadline_passed", PASSED)
    assert sweep(now=at("2026-12-02", "15:00")) >= 1
    case = fresh(case)
    assert case.overdue and "extend" not in cases.allowed_actions(case, mediator)
    with pytest.raises(Conflict) as exc:
        act(
            case,
            mediator,
            "extend",
            now=at("2026-12-02", "15:00"),
            comment="x",
            extension={"days": 1},
        )
    assert exc.value.message == PASSED
    case = fresh(case)
    assert (case.extensions, case.deadline) == (0, at("2026-12-02", "14:00"))
    assert not case.events.filter(action="extend").exists()


# -- 不合格食品核查处置：延长排查期限（最多 10 个工作日，一次）-----------------------------------


FAILING = {
    "sample_no": "GC26320507101",
    "food_name": "桃酥",
    "food_category": "糕点",
    "sampling_stage": "流通",
    "sampled_unit": "相城区阳澄湖镇某某副食品商店",
    "sampled_unit_address": "阳澄湖镇湘城大街 66 号",
    "batch_no": "2026-10-08",
    "sample_date": "2026-10-20",
    "results": [
        {
            "indicator": "过氧化值(以脂肪计)",
            "result_value": "0.55",
            "compare_op": "≤",
            "limit_value": "0.25",
        }
    ],
}
CONTROL = {"control_date": "2026-10-22", "control_measures": ["停止销售", "下架封存"]}


def investigating(users, no: str):
    sample = cases.submit(
        "food_sampling",
        users.sampler_xiangcheng,
        {**FAILING, "sample_no": no},
        org_code=XIANGCHENG,
        now=at("2026-10-21"),
    )
    act(
        sample,
        users.inspector_xiangcheng,
        "publish_fail",
        now=at("2026-10-21", "15:00"),
        comment="不合格",
    )
    enf = enforcement_of(sample).get()
    enforcer = users.market_enforcer_xiangcheng
    with pytest.raises(Conflict) as exc:  # risk control first; only the investigation extends
        act(enf, enforcer, "extend", now=at("2026-10-22"), comment="x")
    assert exc.value.message == "案件当前处于「待控制风险」，不能执行「延长排查期限」"
    # Thursday 22 October 2026: 20 working days to find the cause.
    return act(enf, enforcer, "stop_sales", now=at("2026-10-22"), comment="已下架", data=CONTROL)


def test_enforcement_investigation_extended_once(users):
    enforcer = users.market_enforcer_xiangcheng
    enf = investigating(users, "GC26320507101")
    before = enf.deadline
    with pytest.raises(NotFound):  # another district's enforcer
        act(enf, users.market_enforcer_gusu, "extend", now=at("2026-11-10"), comment="x")
    with pytest.raises(Invalid):
        act(enf, enforcer, "extend", now=at("2026-11-10"))
    with pytest.raises(Invalid) as exc:
        act(
            enf,
            enforcer,
            "extend",
            now=at("2026-11-10"),
            comment="x",
            extension={"working_days": 11},
        )
    assert exc.value.message == "延期不能超过10个工作日"

    reason = "标称生产企业在外省，需协查原料进货记录"
    enf = act(
        enf, enforcer, "extend", now=at("2026-11-10"), comment=reason, extension={"working_days": 5}
    )
    assert (enf.state, enf.extensions) == ("investigating", 1)
    assert enf.deadline == before + timedelta(days=7)  # 5 working days = one week later
    assert payload(enf, "extend")["extension"] == "5个工作日"
    assert reason in enf.events.get(action="extend").body
    with pytest.raises(Conflict) as exc:
        act(enf, enforcer, "extend", now=at("2026-11-11"), comment="再延")
    assert exc.value.message == "本环节最多延期 1 次"
    enf = act(
        enf,
        enforcer,
        "find_cause",
        now=at("2026-11-11", "15:00"),  # 30 working days to rectify: within 2026
        data={"cause_category": "原料把关不严", "cause_detail": "原料油酸价超标"},
    )
    assert enf.state == "rectifying" and enf.extensions == 0  # a new step, a fresh allowance
    audit_ok(enf)


def test_enforcement_investigation_cannot_be_extended_once_overdue(users):
    enforcer = users.market_enforcer_xiangcheng
    enf = investigating(users, "GC26320507102")
    assert sweep(now=enf.deadline + timedelta(minutes=1)) >= 1
    enf = fresh(enf)
    assert enf.overdue and "extend" not in cases.allowed_actions(enf, enforcer)
    with pytest.raises(Conflict) as exc:
        act(enf, enforcer, "extend", now=enf.deadline + timedelta(hours=1), comment="来不及了")
    assert exc.value.message == PASSED
    assert fresh(enf).extensions == 0
