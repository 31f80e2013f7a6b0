"""Demo scenario for the food-safety sampling pack (食品安全抽检), with an enforcement case
opened by a failing sample; run by community_services.build().

Not a pack: no `build()`, so `build_all` imports it and skips it."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tongban.services import cases
from tongban.services.demo_packs.community_common import XIANGCHENG, _act, _day, _u
from tongban.store.models import Case

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
