"""Demo cases for the community-service packs: dispute mediation, food-safety sampling (with
an enforcement case opened by a failing sample) and home-based work for people with
disabilities. Dates are relative to today, so the reminder sweep, the publication list of
the last 30 days and this month's income page all have something to show.

Safe to run twice: each scenario is skipped when its first case exists (found by its
idempotency key); a scenario that fails is rolled back alone and logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tongban.services import cases, catalog
from tongban.services.errors import NotFound, ServiceError
from tongban.store.models import Case

log = logging.getLogger("tongban.demo")

MATTERS = ("dispute_mediation", "food_sampling", "food_enforcement", "home_work_order")
XIANGCHENG = "320507103001"  # 湘城社区, 阳澄湖镇, 相城区


def _u(username: str):
    return get_user_model().objects.get(username=username)


def _day(t: datetime) -> str:
    return timezone.localtime(t).date().isoformat()


def _act(case: Case, user, action: str, now: datetime, **kw) -> Case:
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw), now=now)


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


# -- 食品安全抽检 ---------------------------------------------------------------------------

SAMPLES = [
    # (number, food, category, unit, producer, batch, results, days ago published or None)
    (
        "GC{yy}3205070001",
        "纯牛奶",
        "乳制品",
        "相城区阳澄湖镇湘城便利店",
        "某某乳业有限公司",
        "20261010",
        [("蛋白质", 3.2, "g/100g", "≥", 2.9), ("菌落总数", 1000, "CFU/mL", "≤", 100000)],
        12,
    ),
    (
        "GC{yy}3205070002",
        "火腿肠",
        "肉制品",
        "相城区阳澄湖镇湘城便利店",
        "某某食品有限公司",
        "20260921",
        [("亚硝酸盐(以亚硝酸钠计)", 12, "mg/kg", "≤", 30)],
        12,
    ),
    (
        "GC{yy}3205070003",
        "焙炒咖啡豆",
        "咖啡粉或咖啡豆",
        "相城区阳澄湖镇某某咖啡馆",
        "某某咖啡烘焙有限公司",
        "20260901",
        [("丙烯酰胺", 210, "μg/kg", "≤", 450)],
        8,
    ),
    (
        "GC{yy}3205070004",
        "黄酒",
        "酒",
        "相城区阳澄湖镇湘城超市",
        "某某酿酒有限公司",
        "20260305",
        [("酒精度", 14.5, "%vol", "≥", 8), ("甲醇", 0.02, "g/L", "≤", 0.6)],
        8,
    ),
    (
        "GC{yy}3205070005",
        "菠菜",
        "食用农产品（蔬菜）",
        "相城区阳澄湖镇湘城农贸市场某摊位",
        "",
        "购进日期 2026-10-18",
        [("毒死蜱", 0, "mg/kg", "≤", 0.02), ("镉(以Cd计)", 0.05, "mg/kg", "≤", 0.2)],
        5,
    ),
    (
        "GC{yy}3205070006",
        "桃酥",
        "糕点",
        "相城区阳澄湖镇某某副食品商店",
        "某某食品厂",
        "20260908",
        [
            ("酸价(以脂肪计)(KOH)", 2.1, "mg/g", "≤", 5),
            ("过氧化值(以脂肪计)", 0.55, "g/100g", "≤", 0.25),
        ],
        5,
    ),
    (
        "GC{yy}3205070007",
        "大闸蟹",
        "食用农产品（水产品）",
        "相城区阳澄湖镇某某水产经营部",
        "",
        "捕捞日期 2026-10-25",
        [("镉(以Cd计)", 0.1, "mg/kg", "≤", 0.5)],
        None,
    ),
]


def _sampling(sampler, key: str) -> None:
    now = timezone.now()
    inspector = _u("inspector_xiangcheng")
    yy = f"{now.year % 100:02d}"
    for i, (no, name, cat, unit, producer, batch, results, ago) in enumerate(SAMPLES):
        filed = now - timedelta(days=(ago or 2) + 7)
        case = cases.submit(
            "food_sampling",
            sampler,
            {
                "sample_no": no.format(yy=yy),
                "food_name": name,
                "food_category": cat,
                "sampling_stage": "流通",
                "sampled_unit": unit,
                "sampled_unit_address": "相城区阳澄湖镇湘城大街",
                "producer_name": producer,
                "batch_no": batch,
                "sample_date": _day(filed - timedelta(days=3)),
                "results": [
                    {
                        "indicator": ind,
                        "result_value": value,
                        "result_unit": u,
                        "compare_op": op,
                        "limit_value": limit,
                    }
                    for ind, value, u, op, limit in results
                ],
            },
            org_code=XIANGCHENG,
            idempotency_key=key if i == 0 else f"{key}-{i}",
            now=filed,
        )
        if ago is None:
            continue  # still under review
        when = now - timedelta(days=ago)
        if case.data["verdict"] == "合格":
            _act(case, inspector, "publish_pass", when)
        else:
            _act(case, inspector, "publish_fail", when, comment="复核检验数据无误，结论不合格")
            enforcement = Case.objects.get(parent=case, matter_code="food_enforcement")
            _act(
                enforcement,
                _u("market_enforcer_xiangcheng"),
                "stop_sales",
                when + timedelta(hours=20),
                comment="已责令经营者停止销售，下架封存同批次产品 36 袋",
                data={
                    "control_date": _day(when + timedelta(hours=20)),
                    "control_measures": ["停止销售", "下架封存", "通知标称生产企业"],
                    "controlled_quantity": 36,
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
