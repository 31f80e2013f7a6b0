"""Shared by the dispute-mediation tests (test_community_mediation*.py, the extension and
reminder tests): a rent dispute between 张三 and 王小明, and its agreement."""

from __future__ import annotations

from tests.packs.community import act, at
from tongban.services import cases
from tongban.store.models import Case, Membership, Org, Profile

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
