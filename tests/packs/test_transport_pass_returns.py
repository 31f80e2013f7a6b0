"""重点物资运输车辆通行证: the ways back — the district sends a pass back to the town,
the enterprise withdraws — and who may not do either."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.packs.transport import T0, act, apply_pass, at, told
from tongban.services import cases, worklist
from tongban.services.audit import verify_all
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Certificate


def test_district_sends_a_pass_back_to_the_town_which_reviews_it_again(users):
    econ, agri = users.econ_officer_yangchenghu, users.agri_approver_xiangcheng
    case = apply_pass(users)
    with pytest.raises(Conflict) as exc:  # not before the town has passed it on
        act(case, agri, "send_back", T0 + timedelta(minutes=10), comment="x")
    assert exc.value.message == "案件当前处于「镇经济发展办审核」，不能执行「退回镇经济发展办」"
    act(case, econ, "pass_review", T0 + timedelta(hours=1))

    with pytest.raises(Invalid) as exc:  # the reason is required
        act(case, agri, "send_back", T0 + timedelta(hours=2))
    assert exc.value.fields == {"comment": "请填写意见"}
    with pytest.raises(Forbidden) as exc:  # the town does not send back to itself
        act(case, econ, "send_back", T0 + timedelta(hours=2), comment="x")
    assert exc.value.message.startswith("您没有执行「退回镇经济发展办」的角色")
    with pytest.raises(NotFound) as exc:  # another district's bureau does not see it
        act(case, users.agri_approver_gusu, "send_back", T0 + timedelta(hours=2), comment="x")
    assert exc.value.message == "办件不存在，或不在您的查看范围内"

    reason = "核定载质量与行驶证不符，请镇经济发展办核实"
    act(case, agri, "send_back", T0 + timedelta(hours=2), comment=reason)
    case.refresh_from_db()
    assert (case.state, case.pending_role, case.pending_level) == (
        "review",
        "econ_officer",
        "street",
    )
    assert case.deadline == T0 + timedelta(hours=6)  # the town's 4 working hours start again
    assert worklist.worklist(econ).filter(pk=case.pk).exists()
    assert not worklist.worklist(agri).filter(pk=case.pk).exists()
    back = case.events.get(action="send_back")
    assert (back.kind, back.from_state, back.to_state, back.actor_id) == (
        "moved",
        "approval",
        "review",
        agri.pk,
    )
    assert reason in back.body
    assert told(case)[-1] == ("state_changed", f"user:{users.ent_demo.pk}", "镇经济发展办审核")

    act(case, econ, "pass_review", T0 + timedelta(hours=3), comment="已核实，载质量 8 吨")
    act(case, agri, "approve", T0 + timedelta(hours=4))
    case.refresh_from_db()
    assert case.state == "issued" and Certificate.objects.filter(case=case).count() == 1
    assert [f for _, f in verify_all([case.pk])] == [None]


@pytest.mark.parametrize("where", ["review", "correction"])
def test_enterprise_withdraws_before_approval(users, where):
    econ, ent = users.econ_officer_yangchenghu, users.ent_demo
    case = apply_pass(users)
    if where == "correction":
        case = act(
            case, econ, "request_correction", T0 + timedelta(minutes=30), comment="补充行驶证"
        )
    assert "withdraw" in cases.allowed_actions(case, ent)
    assert "withdraw" not in cases.allowed_actions(case, econ)
    with pytest.raises(Forbidden) as exc:  # only the enterprise itself withdraws
        act(case, econ, "withdraw", T0 + timedelta(hours=1))
    assert exc.value.message.startswith("您没有执行「撤回申请」的角色")
    with pytest.raises(NotFound):  # a stranger does not even see the case
        act(case, users.lisi, "withdraw", T0 + timedelta(hours=1))

    act(case, ent, "withdraw", T0 + timedelta(hours=1))
    case.refresh_from_db()
    assert (case.state, case.outcome, case.pending_role) == ("withdrawn", "withdrawn", "")
    assert case.closed_at == T0 + timedelta(hours=1)
    event = case.events.get(action="withdraw")
    assert (event.from_state, event.to_state, event.actor_id) == (where, "withdrawn", ent.pk)
    assert told(case)[-1] == ("state_changed", f"user:{ent.pk}", "已撤回")
    assert not worklist.worklist(econ).filter(pk=case.pk).exists()
    with pytest.raises(Conflict) as exc:  # a withdrawn case is finished
        act(case, econ, "pass_review", T0 + timedelta(hours=2))
    assert exc.value.message == "案件当前处于「已撤回」，不能执行「审核通过，报区农业农村局」"


def test_a_pass_cannot_be_withdrawn_once_with_the_district(users):
    case = apply_pass(users)
    case = act(case, users.econ_officer_yangchenghu, "pass_review", T0 + timedelta(hours=1))
    assert "withdraw" not in cases.allowed_actions(case, users.ent_demo)
    with pytest.raises(Conflict) as exc:
        act(case, users.ent_demo, "withdraw", at("2026-03-02 11:00"))
    assert exc.value.message == "案件当前处于「区农业农村局审批」，不能执行「撤回申请」"
    case.refresh_from_db()
    assert case.state == "approval" and not case.events.filter(action="withdraw").exists()
