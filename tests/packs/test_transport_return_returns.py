"""货运车辆返程报备: a reversed return window refused at once; sent back for correction and
resubmitted; refused; withdrawn — and who may not do each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.packs.transport import T0, act, at, declare, told
from tongban.services import cases, certificates, worklist
from tongban.services.audit import verify_all
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Case, Certificate, Event, Outbox

REVERSED = {"return_to": "返程结束时间应晚于返程开始时间"}


def test_reversed_or_empty_return_window_is_refused_at_submission_and_when_amended(users):
    tables = (Case, Event, Outbox, Certificate)
    before = [m.objects.count() for m in tables]
    for start, end in [("2026-03-02 20:00", "2026-03-02 14:00"), ("2026-03-02 14:00",) * 2]:
        with pytest.raises(Invalid) as exc:
            declare(users, start=start, end=end)
        assert exc.value.message == "申请内容有误，请按提示修改"
        assert exc.value.fields == REVERSED
    assert [m.objects.count() for m in tables] == before

    case = declare(users)
    act(case, users.freight_reviewer_xiangcheng, "approve", T0 + timedelta(minutes=3))
    code = Certificate.objects.get(case=case)
    with pytest.raises(Invalid) as exc:  # running late is no reason to end before starting
        act(
            case,
            users.zhangsan,
            "amend_return",
            at("2026-03-02 19:00"),
            data={"return_to": "2026-03-02 13:00"},
        )
    assert exc.value.fields == REVERSED
    case.refresh_from_db()
    assert (case.state, case.data["return_to"]) == ("issued", "2026-03-02T20:00+08:00")
    code.refresh_from_db()
    assert code.revoked_at is None and not case.events.filter(action="amend_return").exists()


def test_sent_back_for_correction_and_resubmitted_by_the_driver(users):
    reviewer, driver = users.freight_reviewer_xiangcheng, users.zhangsan
    case = declare(users, cargo="钢材 30 吨")
    with pytest.raises(Invalid) as exc:
        act(case, reviewer, "request_correction", T0 + timedelta(minutes=2))
    assert exc.value.fields == {"comment": "请填写意见"}
    with pytest.raises(NotFound):  # another district's reviewer does not see it
        act(case, users.freight_reviewer_gusu, "request_correction", T0, comment="x")
    with pytest.raises(Forbidden) as exc:  # the driver cannot send his own declaration back
        act(case, driver, "request_correction", T0 + timedelta(minutes=2), comment="x")
    assert exc.value.message.startswith("您没有执行「退回修改」的角色")

    reason = "返程目的地请写到物流园名称；载货 30 吨超出车辆核定载质量"
    case = act(case, reviewer, "request_correction", T0 + timedelta(minutes=3), comment=reason)
    assert (case.state, case.pending_role, case.deadline) == ("correction", "applicant", None)
    assert reason in case.events.get(action="request_correction").body
    assert told(case)[-1] == ("state_changed", f"user:{driver.pk}", "待修改")
    assert not Certificate.objects.filter(case=case).exists()
    with pytest.raises(Conflict) as exc:  # nothing to approve until it comes back
        act(case, reviewer, "approve", T0 + timedelta(minutes=4))
    assert exc.value.message == "案件当前处于「待修改」，不能执行「审核通过并赋码」"
    with pytest.raises(Forbidden) as exc:  # only the applicant resubmits
        act(case, reviewer, "resubmit", T0 + timedelta(minutes=5), data={"cargo": "钢材 10 吨"})
    assert exc.value.message.startswith("您没有执行「修改后重新提交」的角色")

    fixed = {"cargo": "钢材 10 吨", "destination": "苏州市相城区阳澄湖镇湘城物流园 3 号库"}
    case = act(case, driver, "resubmit", T0 + timedelta(minutes=20), data=fixed)
    assert (case.state, case.pending_role) == ("review", "freight_reviewer")
    assert case.deadline == T0 + timedelta(minutes=30)  # another 10 minutes for the review
    assert case.data["cargo"] == "钢材 10 吨"
    assert '"cargo":["钢材 30 吨","钢材 10 吨"]' in case.events.get(action="resubmit").body
    assert told(case)[-1] == ("state_changed", f"user:{driver.pk}", "待审核")
    assert worklist.worklist(reviewer).filter(pk=case.pk).exists()

    act(case, reviewer, "approve", T0 + timedelta(minutes=25))
    code = Certificate.objects.get(case=case)
    assert code.details["cargo"] == "钢材 10 吨"
    assert [f for _, f in verify_all([case.pk])] == [None]


def test_refused_with_a_reason_and_no_code(users):
    reviewer = users.freight_reviewer_xiangcheng
    case = declare(users, users.ent_demo)
    with pytest.raises(Invalid) as exc:
        act(case, reviewer, "refuse", T0 + timedelta(minutes=2))
    assert exc.value.fields == {"comment": "请填写意见"}
    with pytest.raises(NotFound):
        act(case, users.freight_reviewer_gusu, "refuse", T0, comment="x")
    with pytest.raises(Forbidden) as exc:
        act(case, users.ent_demo, "refuse", T0 + timedelta(minutes=2), comment="x")
    assert exc.value.message.startswith("您没有执行「不予通过」的角色")

    reason = "该车辆本周已有有效的返程报备，不重复赋码"
    case = act(case, reviewer, "refuse", T0 + timedelta(minutes=4), comment=reason)
    assert (case.state, case.outcome, case.closed_at) == (
        "refused",
        "refused",
        T0 + timedelta(minutes=4),
    )
    assert reason in case.events.get(action="refuse").body
    assert told(case)[-1] == ("state_changed", f"user:{users.ent_demo.pk}", "不予通过")
    assert not Certificate.objects.filter(case=case).exists()
    assert cases.allowed_actions(case, reviewer) == []
    with pytest.raises(Conflict) as exc:
        act(case, reviewer, "approve", T0 + timedelta(minutes=5))
    assert exc.value.message == "案件当前处于「不予通过」，不能执行「审核通过并赋码」"


def test_withdrawn_by_the_applicant_before_a_code_is_issued(users):
    reviewer, driver = users.freight_reviewer_xiangcheng, users.zhangsan
    waiting = declare(users)
    with pytest.raises(Forbidden) as exc:  # only the applicant withdraws
        act(waiting, reviewer, "withdraw", T0 + timedelta(minutes=1))
    assert exc.value.message.startswith("您没有执行「撤回报备」的角色")
    with pytest.raises(NotFound):  # someone else's declaration is not even visible
        act(waiting, users.lisi, "withdraw", T0 + timedelta(minutes=1))
    waiting = act(waiting, driver, "withdraw", T0 + timedelta(minutes=2))
    assert (waiting.state, waiting.outcome) == ("withdrawn", "withdrawn")
    event = waiting.events.get(action="withdraw")
    assert (event.from_state, event.to_state, event.actor_id) == ("review", "withdrawn", driver.pk)
    assert told(waiting)[-1] == ("state_changed", f"user:{driver.pk}", "已撤回")
    assert not worklist.worklist(reviewer).filter(pk=waiting.pk).exists()

    correcting = declare(users)
    act(correcting, reviewer, "request_correction", T0 + timedelta(minutes=3), comment="车牌不清")
    correcting = act(correcting, driver, "withdraw", T0 + timedelta(minutes=30))
    assert correcting.outcome == "withdrawn"
    assert correcting.events.get(action="withdraw").from_state == "correction"

    # Once the code is out the trip is under way: it ends by returning, not by withdrawing.
    issued = declare(users)
    issued = act(issued, reviewer, "approve", T0 + timedelta(minutes=3))
    assert "withdraw" not in cases.allowed_actions(issued, driver)
    with pytest.raises(Conflict) as exc:
        act(issued, driver, "withdraw", T0 + timedelta(minutes=5))
    assert exc.value.message == "案件当前处于「已赋码（返程中）」，不能执行「撤回报备」"
    code = Certificate.objects.get(case=issued)
    assert certificates.public_status(code.number, now=at("2026-03-02 15:00"))["status"] == "valid"
    assert [f for _, f in verify_all([waiting.pk, correcting.pk, issued.pk])] == [None] * 3
