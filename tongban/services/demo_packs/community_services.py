"""Demo cases for the community-service packs: dispute mediation, food-safety sampling (with
an enforcement case opened by a failing sample) and home-based work for people with
disabilities. Dates are relative to today, so the reminder sweep, the publication list of
the last 30 days and this month's income page all have something to show.

Safe to run twice: each scenario is skipped when its first case exists (found by its
idempotency key); a scenario that fails is rolled back alone and logged.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tongban.services import cases, catalog
from tongban.services.demo_packs.community_common import XIANGCHENG, _act, _day, _u, log
from tongban.services.demo_packs.community_food import SAMPLES, _sampling
from tongban.services.errors import NotFound, ServiceError
from tongban.store.models import Case

__all__ = [
    "MATTERS",
    "PARTIES",
    "SAMPLES",
    "XIANGCHENG",
    "_act",
    "_day",
    "_order",
    "_rent_dispute",
    "_sampling",
    "_scenario",
    "_u",
    "_wage_dispute",
    "build",
    "log",
]

MATTERS = ("dispute_mediation", "food_sampling", "food_enforcement", "home_work_order")


def _scenario(creator: str, key: str, run) -> None:
    user = _u(creator)
    if Case.objects.filter(created_by=user, idempotency_key=key).exists():
        return
    try:
        with transaction.atomic():
            run(user, key)
    except ServiceError as exc:  # demo data is a convenience: never block `tongban demo`
        log.warning("community demo %s skipped: %s", key, exc)


# -- 矛盾纠纷调解 ---------------------------------------------------------------------------

PARTIES = [
    {
        "party_role": "申请人",
        "party_name": "张三",
        "party_id_card": "11010519491231002X",
        "party_phone": "13812345678",
        "party_address": "阳澄湖镇湘城大街 18 号",
    },
    {"party_role": "被申请人", "party_name": "王小明", "party_phone": "13900001111"},
]


def _rent_dispute(zhang, key: str) -> None:
    """房屋租赁: rent and utilities of 2,800 yuan in three instalments; the second one is
    overdue and unpaid, so the next reminder sweep reminds both sides and the mediator."""
    now = timezone.now()
    mediator = _u("mediator_yangchenghu")
    case = cases.submit(
        "dispute_mediation",
        zhang,
        {
            "dispute_type": "房屋租赁",
            "dispute_amount": 2800,
            "dispute_summary": (
                "被申请人租住申请人位于湘城大街的房屋，拖欠三个月房租及水电费共 2800 元，"
                "多次催要未果。"
            ),
            "mediation_request": "请求被申请人支付拖欠的房租和水电费 2800 元。",
            "parties": PARTIES,
            "preferred_mode": "线下调解",
            "mediation_consent": True,
        },
        idempotency_key=key,
        now=now - timedelta(days=20),
    )
    _act(case, mediator, "accept", now - timedelta(days=19))
    _act(
        case,
        mediator,
        "session",
        now - timedelta(days=17),
        data={
            "session_date": _day(now - timedelta(days=17)),
            "session_mode": "线下",
            "session_place": "阳澄湖镇人民调解委员会调解室",
            "session_attendees": "张三、王小明、调解员",
            "session_notes": "双方到场。被申请人承认欠款，称近期收入减少，提出分三期支付。",
        },
    )
    plan = [
        {"due_date": _day(now - timedelta(days=10)), "instalment_amount": 1000, "paid": False},
        {"due_date": _day(now - timedelta(days=3)), "instalment_amount": 1000, "paid": False},
        {"due_date": _day(now + timedelta(days=20)), "instalment_amount": 800, "paid": False},
    ]
    terms = (
        "一、被申请人王小明确认拖欠申请人张三房租及水电费共计人民币 2800 元。\n"
        f"二、被申请人分三期向申请人支付：{plan[0]['due_date']} 前 1000 元，"
        f"{plan[1]['due_date']} 前 1000 元，{plan[2]['due_date']} 前 800 元。\n"
        "三、被申请人付清全部款项后，双方就本纠纷再无其他争议。"
    )
    _act(
        case,
        mediator,
        "agree",
        now - timedelta(days=15),
        data={"agreement_terms": terms, "instalments": plan},
    )
    plan[0]["paid"] = True
    _act(
        case,
        mediator,
        "record_payment",
        now - timedelta(days=10),
        comment="已收到第一期 1000 元（微信转账）",
        data={"instalments": plan},
    )


def _wage_dispute(zhang, key: str) -> None:
    """劳资欠薪, in mediation: one session recorded."""
    now = timezone.now()
    mediator = _u("mediator_yangchenghu")
    case = cases.submit(
        "dispute_mediation",
        zhang,
        {
            "dispute_type": "劳资欠薪",
            "dispute_amount": 6500,
            "dispute_summary": "申请人在被申请人承接的装修工地做工 26 天，工钱 6500 元至今未结。",
            "mediation_request": "请求被申请人结清工钱 6500 元。",
            "parties": [
                PARTIES[0],
                {
                    "party_role": "被申请人",
                    "party_name": "苏州某某装饰工程有限公司",
                    "party_phone": "051265001234",
                },
            ],
            "preferred_mode": "均可",
            "mediation_consent": True,
        },
        idempotency_key=key,
        now=now - timedelta(days=4),
    )
    _act(case, mediator, "accept", now - timedelta(days=3))
    _act(
        case,
        mediator,
        "session",
        now - timedelta(days=1),
        data={
            "session_date": _day(now - timedelta(days=1)),
            "session_mode": "线上",
            "session_place": "视频调解",
            "session_notes": "公司同意核对考勤后结算，约定下周再次调解。",
        },
    )


# -- 残疾人居家就业 -------------------------------------------------------------------------


def _order(worker, name: str, address: str, staff: str, key: str, *, paid: bool) -> None:
    now = timezone.now()
    disability_worker = _u(staff)
    start = now - timedelta(days=16 if paid else 6)
    case = cases.submit(
        "home_work_order",
        worker,
        {
            "worker_name": name,
            "id_number": "11010519491231002X",
            "contact_phone": "13812345678",
            "home_address": address,
            "order_product": "手工编织杯垫" if paid else "中国结挂件",
            "order_quantity": 100 if paid else 60,
            "piece_rate": 1.5 if paid else 2.8,
            "drop_point": "家门口",
        },
        idempotency_key=key,
        now=start,
    )
    _act(case, disability_worker, "confirm_order", start + timedelta(hours=3))
    _act(
        case,
        disability_worker,
        "deliver",
        start + timedelta(days=1),
        data={
            "delivery_date": _day(start + timedelta(days=1)),
            "delivered_materials": "棉线、说明书",
        },
    )
    if not paid:
        return
    _act(case, worker, "ready", start + timedelta(days=10), comment="已完成，请上门收货")
    picked = start + timedelta(days=11)
    _act(
        case,
        disability_worker,
        "pick_up",
        picked,
        data={"pickup_date": _day(picked), "picked_quantity": 100},
    )
    _act(
        case,
        disability_worker,
        "pass_check",
        picked + timedelta(hours=2),
        data={"accepted_quantity": 96, "rejected_quantity": 4, "check_note": "4 件线头未收好"},
    )
    # Paid today, so this month's income page has it (96 × 1.5 = 144 元).
    _act(
        case,
        disability_worker,
        "pay",
        now - timedelta(minutes=5),
        data={"paid_amount": 144, "paid_date": _day(now), "pay_method": "银行转账"},
    )


def build() -> None:
    try:
        for code in MATTERS:
            catalog.current_version(code)
    except NotFound:
        return  # the catalog is not loaded; `tongban catalog load catalog` first
    _scenario("zhangsan", "demo-mediation-rent", _rent_dispute)
    _scenario("zhangsan", "demo-mediation-wage", _wage_dispute)
    _scenario("sampler_xiangcheng", "demo-food-sampling", _sampling)
    _scenario(
        "zhangsan",
        "demo-home-work-paid",
        lambda u, k: _order(
            u, "张三", "阳澄湖镇湘城社区 5 幢 101 室", "disability_worker_yangchenghu", k, paid=True
        ),
    )
    _scenario(
        "zhangsan",
        "demo-home-work-open",
        lambda u, k: _order(
            u,
            "张三",
            "阳澄湖镇湘城社区 5 幢 101 室",
            "disability_worker_yangchenghu",
            k,
            paid=False,
        ),
    )
    _scenario(
        "lisi",
        "demo-home-work-lisi",
        lambda u, k: _order(
            u, "李四", "沧浪街道南门社区 2 幢 302 室", "disability_worker_canglang", k, paid=True
        ),
    )
