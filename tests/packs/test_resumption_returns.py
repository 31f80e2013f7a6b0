"""The resumption pack's other matters on their own, end to end — 复工企业防疫物资申请,
复工企业员工通行证, 个体工商户复业登记 — with their ways back: correction and
resubmission, refusal, withdrawal, and who may not take them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.packs.resumption import T0, XIANGCHENG, account, act, file_shop, pdfs, uscc
from tongban.services import cases, worklist
from tongban.services.demo_packs.resumption_bundle import employee, ensure_accounts
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Certificate, Outbox

COMPANY = {
    "company_name": "苏州测试1号制造有限公司",
    "credit_code": uscc(1),
    "contact_name": "赵经理",
    "contact_phone": "13812345678",
}
ECON, SUPPLIES = "econ_officer_yangchenghu", "supplies_officer_yangchenghu"


def told(case) -> list[tuple[str, str, str]]:
    rows = Outbox.objects.filter(case=case).order_by("pk")
    return [(m.topic, m.recipient, m.payload.get("label", "")) for m in rows]


def ask_supplies(user, now=T0, **changes):
    data = {
        **COMPANY,
        "returning_count": 80,
        "supplies_needed": [
            {"supply_item": "医用外科口罩", "quantity": 2240},
            {"supply_item": "含氯消毒液", "quantity": 20},
        ],
        "delivery_address": "阳澄湖镇湘城工业园 8 号 门卫室",
        "needed_by": "2025-03-05",
        "supplies_commitment": True,
        **changes,
    }
    materials = pdfs(user, "business_licence")
    return cases.submit("epidemic_supplies", user, data, materials=materials, now=now)


def apply_employee_pass(user, now=T0, **changes):
    data = {
        **COMPANY,
        "business_address": "阳澄湖镇湘城工业园 8 号",
        "resumption_receipt_no": "复工〔2025〕00001",
        **employee(1, **changes),
        "valid_from": "2025-03-05",
        "valid_to": "2025-03-31",
        "health_commitment": True,
    }
    materials = pdfs(user, "business_licence")
    return cases.submit("employee_pass", user, data, materials=materials, now=now)


def test_supplies_corrected_then_approved_and_delivered(users):
    ent, econ, officer = users.ent_demo, getattr(users, ECON), getattr(users, SUPPLIES)
    case = ask_supplies(ent)
    assert (case.state, case.pending_role) == ("review", "econ_officer")
    with pytest.raises(Invalid) as exc:
        act(case, econ, "request_correction", T0 + timedelta(hours=1))
    assert exc.value.fields == {"comment": "请填写意见"}
    case = act(
        case, econ, "request_correction", T0 + timedelta(hours=1), comment="口罩数量按两周测算"
    )
    assert (case.state, case.pending_role) == ("correction", "applicant")
    assert told(case)[-1] == ("state_changed", f"user:{ent.pk}", "待补正")
    with pytest.raises(Forbidden) as exc:
        act(case, econ, "resubmit", T0 + timedelta(hours=2))
    assert exc.value.message.startswith("您没有执行「补正后重新提交」的角色")
    fixed = [{"supply_item": "医用外科口罩", "quantity": 2240 // 2}]
    case = act(case, ent, "resubmit", T0 + timedelta(hours=2), data={"supplies_needed": fixed})
    assert case.state == "review" and case.data["supplies_needed"][0]["quantity"] == 1120
    assert '"supplies_needed":[[' in case.events.get(action="resubmit").body  # old and new

    act(case, econ, "pass_review", T0 + timedelta(hours=3))
    with pytest.raises(NotFound):  # another street's supplies group does not see it
        act(case, users.supplies_officer_weitang, "approve", T0 + timedelta(hours=4))
    case = act(case, officer, "approve", T0 + timedelta(hours=4), comment="按申请数量核定")
    approval = Certificate.objects.get(case=case)
    assert (approval.number, approval.key) == ("防疫物资〔2025〕00001", "supplies_approval")
    assert (case.state, case.outcome) == ("approved", "")  # delivery is still to come
    assert worklist.worklist(officer).filter(pk=case.pk).exists()

    delivered = {"delivered_on": "2025-03-04", "receiver": "门卫 钱师傅"}
    with pytest.raises(Forbidden):  # the economic office does not deliver
        act(case, econ, "deliver", T0 + timedelta(days=1), data=delivered)
    with pytest.raises(Invalid) as exc:
        act(case, officer, "deliver", T0 + timedelta(days=1), data={"receiver": "钱师傅"})
    assert exc.value.fields == {"delivered_on": "必填"}
    case = act(case, officer, "deliver", T0 + timedelta(days=1), data=delivered)
    assert (case.state, case.outcome) == ("delivered", "completed")
    assert "门卫 钱师傅" in case.events.get(action="deliver").body
    assert told(case)[-1] == ("state_changed", f"user:{ent.pk}", "已配送")


@pytest.mark.parametrize("where", ["review", "allocation"])
def test_supplies_refused_with_a_reason(users, where):
    ent, econ, officer = users.ent_demo, getattr(users, ECON), getattr(users, SUPPLIES)
    case = ask_supplies(ent)
    who = econ
    if where == "allocation":
        case = act(case, econ, "pass_review", T0 + timedelta(hours=1))
        who = officer
    with pytest.raises(Invalid):
        act(case, who, "refuse", T0 + timedelta(hours=2))
    with pytest.raises(Forbidden):
        act(case, ent, "refuse", T0 + timedelta(hours=2), comment="x")
    case = act(case, who, "refuse", T0 + timedelta(hours=2), comment="企业尚未完成复工备案")
    assert (case.state, case.outcome) == ("refused", "refused")
    event = case.events.get(action="refuse")
    assert (event.from_state, event.actor_id) == (where, who.pk)
    assert told(case)[-1] == ("state_changed", f"user:{ent.pk}", "不予批准")
    assert not Certificate.objects.filter(case=case).exists()


def test_supplies_withdrawn_before_allocation_only(users):
    ent, econ = users.ent_demo, getattr(users, ECON)
    first = ask_supplies(ent)
    with pytest.raises(Forbidden) as exc:
        act(first, econ, "withdraw", T0 + timedelta(minutes=30))
    assert exc.value.message.startswith("您没有执行「撤回申请」的角色")
    first = act(first, ent, "withdraw", T0 + timedelta(minutes=30))
    assert (first.state, first.outcome) == ("withdrawn", "withdrawn")
    assert told(first)[-1] == ("state_changed", f"user:{ent.pk}", "已撤回")

    second = ask_supplies(ent)
    act(second, econ, "request_correction", T0 + timedelta(hours=1), comment="补充营业执照")
    second = act(second, ent, "withdraw", T0 + timedelta(hours=2))
    assert second.events.get(action="withdraw").from_state == "correction"

    third = act(ask_supplies(ent), econ, "pass_review", T0 + timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        act(third, ent, "withdraw", T0 + timedelta(hours=2))
    assert exc.value.message == "案件当前处于「防疫物资保障组核定」，不能执行「撤回申请」"


def test_employee_pass_withdrawn_by_the_enterprise_before_the_health_check(users):
    ent, econ = users.ent_demo, getattr(users, ECON)
    case = apply_employee_pass(ent)
    assert (case.state, case.data["employee_name"]) == ("review", "李秀兰")
    with pytest.raises(Forbidden) as exc:
        act(case, econ, "withdraw", T0 + timedelta(minutes=30))
    assert exc.value.message.startswith("您没有执行「撤回申请」的角色")
    with pytest.raises(NotFound):
        act(case, users.zhangsan, "withdraw", T0 + timedelta(minutes=30))
    case = act(case, ent, "withdraw", T0 + timedelta(minutes=30))
    assert (case.state, case.outcome) == ("withdrawn", "withdrawn")
    assert told(case)[-1] == ("state_changed", f"user:{ent.pk}", "已撤回")
    assert not worklist.worklist(econ).filter(pk=case.pk).exists()

    later = act(apply_employee_pass(ent), econ, "pass_review", T0 + timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        act(later, ent, "withdraw", T0 + timedelta(hours=2))
    assert exc.value.message == "案件当前处于「街道疫情防控办健康核验」，不能执行「撤回申请」"


def test_employee_pass_corrected_at_the_health_check_then_issued_or_refused(users):
    ensure_accounts()  # the 疫情防控办 accounts
    ent, econ, health = users.ent_demo, getattr(users, ECON), users.epidemic_officer_yangchenghu
    case = apply_employee_pass(ent)
    case = act(case, econ, "pass_review", T0 + timedelta(hours=1))
    assert (case.state, case.pending_role) == ("health_check", "epidemic_officer")
    with pytest.raises(Forbidden):  # the economic office does not check health
        act(case, econ, "issue", T0 + timedelta(hours=2))
    case = act(
        case, health, "request_correction", T0 + timedelta(hours=2), comment="请补填通勤路线卡口"
    )
    assert told(case)[-1] == ("state_changed", f"user:{ent.pk}", "待补正")
    route = "湘城社区—澄阳路（湘城卡口）—湘城工业园"
    case = act(case, ent, "resubmit", T0 + timedelta(hours=3), data={"commute_route": route})
    assert case.state == "review"  # back to the start: the office sees the change first
    act(case, econ, "pass_review", T0 + timedelta(hours=4))
    case = act(case, health, "issue", T0 + timedelta(hours=5))
    assert (case.state, case.outcome) == ("issued", "completed")
    card = Certificate.objects.get(case=case)
    assert (card.number, card.holder) == ("苏复通〔2025〕000001", "李秀兰")
    assert card.details["commute_route"] == route

    fever = apply_employee_pass(ent, health_status="有发热、咳嗽等症状", body_temperature="37.9")
    fever = act(fever, econ, "pass_review", T0 + timedelta(hours=1))
    assert "issue" not in cases.allowed_actions(fever, health)
    with pytest.raises(Conflict) as exc:
        act(fever, health, "issue", T0 + timedelta(hours=2))
    assert exc.value.message == "当前不满足「核验通过，核发通行证」的条件"
    fever = act(fever, health, "refuse", T0 + timedelta(hours=2), comment="发热，痊愈后重新申请")
    assert (fever.state, fever.outcome) == ("refused", "refused")
    assert not Certificate.objects.filter(case=fever).exists()


def test_shop_withdraws_its_reopening_before_the_community_confirms(users):
    owner = account("shop_test_w", "person", XIANGCHENG)
    clerk = users.clerk_yangchenghu1
    own = file_shop(owner, 1)
    with pytest.raises(Forbidden) as exc:
        act(own, clerk, "withdraw", T0 + timedelta(minutes=10))
    assert exc.value.message.startswith("您没有执行「撤回登记」的角色")
    with pytest.raises(NotFound):  # another community's window does not see it
        act(own, users.clerk_yangchenghu2, "withdraw", T0 + timedelta(minutes=10))
    own = act(own, owner, "withdraw", T0 + timedelta(minutes=10))
    assert (own.state, own.outcome, own.pending_role) == ("withdrawn", "withdrawn", "")
    event = own.events.get(action="withdraw")
    assert (event.from_state, event.to_state, event.actor_id) == (
        "submitted",
        "withdrawn",
        owner.pk,
    )
    assert told(own)[-1] == ("state_changed", f"user:{owner.pk}", "已撤回")
    assert not Certificate.objects.filter(case=own).exists()
    assert not worklist.worklist(clerk).filter(pk=own.pk).exists()

    # Filed by the window on the owner's behalf: the owner withdraws it, not the window.
    by_window = file_shop(clerk, 2, on_behalf_of=owner)
    with pytest.raises(Forbidden):
        act(by_window, clerk, "withdraw", T0 + timedelta(minutes=20))
    assert act(by_window, owner, "withdraw", T0 + timedelta(minutes=20)).outcome == "withdrawn"

    registered = act(file_shop(owner, 3), clerk, "confirm", T0 + timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        act(registered, owner, "withdraw", T0 + timedelta(hours=2))
    assert exc.value.message == "案件当前处于「已登记复业」，不能执行「撤回登记」"
