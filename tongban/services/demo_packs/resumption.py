"""Demo cases for 企业复工复产备案 and 个体工商户复业登记 in 阳澄湖镇 (湘城社区, 消泾村).

Eight enterprises, one in every step of the filing (ent_demo has its receipt and has been
reporting daily for a few days), and nine shops, two of them filed at the community window
on the shop's behalf. Every case goes through the case service like a real one, at times
in the last week. `tongban demo` runs it; it is safe to run twice (nothing is created
when the demo cases exist) and does nothing before the catalog is loaded; if a case is
refused (say, the catalog changed), none is made and a warning is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import transaction
from django.utils import timezone

from tongban.engine.validators import id_check_digit, uscc_check_digit
from tongban.services import cases, catalog, followups
from tongban.services.demo import _user, sample_pdf
from tongban.services.errors import NotFound, ServiceError
from tongban.services.uploads import store
from tongban.store.models import Case, Org

log = logging.getLogger("tongban.demo")

MARK = "demo-resumption"  # idempotency-key prefix of the demo cases
STREET = "320507103"  # 阳澄湖镇; communities 001 湘城社区 and 002 消泾村
ENTERPRISE_MATERIALS = {
    "commitment_letter": "复工承诺书",
    "resumption_plan": "复工方案",
    "emergency_plan": "疫情防控应急预案",
    "supplies_list": "防疫物资清单",
    "facilities": "防控设施情况",
}

# username, enterprise name (None: the account exists), community, industry, staff,
# returning staff, where its filing stands now
ENTERPRISES = [
    ("ent_demo", None, 1, "农林牧渔", 45, 30, "reporting"),
    ("ent_yangchenghu2", "苏州湘城精密机械有限公司", 1, "工业制造", 120, 80, "closed"),
    ("ent_yangchenghu3", "苏州湘城电子科技有限公司", 1, "工业制造", 90, 60, "onsite"),
    ("ent_yangchenghu4", "苏州阳澄湖餐饮管理有限公司", 1, "住宿餐饮", 36, 20, "review"),
    ("ent_yangchenghu5", "苏州湘城物流有限公司", 1, "交通运输和物流", 60, 40, "submitted"),
    ("ent_yangchenghu6", "苏州消泾纺织有限公司", 2, "工业制造", 200, 150, "correction"),
    ("ent_yangchenghu7", "苏州消泾建筑工程有限公司", 2, "建筑施工", 80, 50, "rectifying"),
    ("ent_yangchenghu8", "苏州消泾商贸有限公司", 2, "批发零售", 12, 8, "reporting"),
]

# username, shop, operator, community, business type, how it was filed and where it stands
SHOPS = [
    ("shop_yangchenghu1", "湘城老王面馆", "王建国", 1, "餐饮", "registered"),
    ("shop_yangchenghu2", "秀英便利店", "李秀英", 1, "零售", "registered"),
    ("shop_yangchenghu3", "志强理发店", "陈志强", 1, "理发美容", "registered"),
    ("shop_yangchenghu4", "芳芳洗衣店", "刘芳", 1, "洗衣家政", "by_clerk"),
    ("shop_yangchenghu5", "湘城家电维修部", "周敏", 1, "维修", "submitted"),
    ("shop_yangchenghu6", "消泾农家菜馆", "吴磊", 2, "餐饮", "registered"),
    ("shop_yangchenghu7", "徐记水果店", "徐丽", 2, "零售", "by_clerk"),
    ("shop_yangchenghu8", "孙伟五金店", "孙伟", 2, "零售", "registered"),
    ("shop_yangchenghu9", "红红美发", "朱红", 2, "理发美容", "refused"),
]


def uscc(n: int) -> str:
    """A valid, made-up unified social credit code of 相城区 (GB 32100 check digit)."""
    first17 = f"91320507MA1{n:06d}"
    return first17 + uscc_check_digit(first17)


def id_number(n: int) -> str:
    """A valid, made-up resident ID number of 相城区 (born 1980-01-01)."""
    first17 = f"32050719800101{n:03d}"
    return first17 + id_check_digit(first17)


@lru_cache(maxsize=8)
def _pdf(title: str) -> bytes:
    return sample_pdf(title)


def enterprise_materials(user) -> dict:
    return {
        key: [store(_pdf(key), f"{name}.pdf", user)] for key, name in ENTERPRISE_MATERIALS.items()
    }


def shop_materials(user) -> dict:
    return {"business_license": [store(_pdf("business licence"), "营业执照.pdf", user)]}


def enterprise_data(n: int, name: str, industry: str, staff: int, back: int) -> dict:
    return {
        "company_name": name,
        "credit_code": uscc(n),
        "contact_name": "张经理",
        "contact_phone": f"1381234{n:04d}",
        "business_address": f"阳澄湖镇湘城工业园 {n} 号",
        "industry": industry,
        "employee_count": staff,
        "returning_count": back,
        "resume_date": "2026-03-02",
    }


def shop_data(n: int, shop: str, operator: str, kind: str) -> dict:
    return {
        "shop_name": shop,
        "operator_name": operator,
        "id_number": id_number(n),
        "contact_phone": f"1391234{n:04d}",
        "business_address": f"阳澄湖镇湘城大街 {n * 2} 号",
        "business_type": kind,
    }


def build() -> None:
    try:
        catalog.current_version("resumption_filing")
        catalog.current_version("shop_reopening")
    except NotFound:
        return  # the catalog is not loaded; `tongban catalog load catalog` first
    if Case.objects.filter(idempotency_key__startswith=MARK).exists():
        return
    start = timezone.now() - timedelta(days=6)
    try:
        with transaction.atomic():
            for n, row in enumerate(ENTERPRISES, 1):
                _enterprise(n, *row, start)
            for n, row in enumerate(SHOPS, 1):
                _shop(n, *row, start)
    except ServiceError as exc:  # demo data is a convenience: never block `tongban demo`
        log.warning("resumption demo skipped: %s", exc)


def _staff(name: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name)


def _act(case: Case, username: str, action: str, at: datetime, **kw) -> None:
    cases.act(case.pk, _staff(username), cases.ActRequest(action=action, **kw), now=at)


def _enterprise(n, username, name, community, industry, staff, back, story, start) -> None:
    org = Org.objects.get(code=f"{STREET}{community:03d}")
    user = _user(username, name, "enterprise", org) if name else _staff(username)
    name = name or user.profile.display_name
    clerk, grid = f"clerk_yangchenghu{community}", f"grid_yangchenghu{community}"
    reviewer = "resumption_reviewer_yangchenghu"
    t = start + timedelta(hours=n)
    case = cases.submit(
        "resumption_filing",
        user,
        enterprise_data(n, name, industry, staff, back),
        materials=enterprise_materials(user),
        # filed in the enterprise's grid, so that the grid worker may check it on site
        org_code=f"{org.code}01",
        idempotency_key=f"{MARK}-{n}",
        now=t,
    )
    if story == "submitted":
        return
    if story == "correction":
        _act(
            case,
            clerk,
            "request_correction",
            t + timedelta(hours=2),
            comment="复工方案未写明分批返岗安排，请补充后重新上传",
        )
        return
    _act(case, clerk, "accept", t + timedelta(hours=2))
    if story == "review":
        return
    _act(
        case,
        reviewer,
        "send_onsite",
        t + timedelta(hours=4),
        comment="请核查测温点和临时隔离观察点",
    )
    if story == "onsite":
        return
    check = {
        "check_date": (t + timedelta(days=1)).date().isoformat(),
        "check_findings": "测温点、消杀记录和临时隔离观察点均已落实，防疫物资与清单一致",
        "check_result": "符合复工条件" if story != "rectifying" else "不符合复工条件",
    }
    if story == "rectifying":
        check["check_findings"] = "未设置临时隔离观察点，宿舍每间住宿超过 6 人"
    _act(case, grid, "record_check", t + timedelta(days=1), data=check)
    if story == "rectifying":
        _act(
            case,
            reviewer,
            "rectify",
            t + timedelta(days=1, hours=2),
            comment="整改通知：设置临时隔离观察点；宿舍每间不超过 6 人。整改完成后重新提交。",
        )
        return
    approved = t + timedelta(days=1, hours=3)
    _act(case, reviewer, "approve", approved)
    days = (timezone.now() - approved).days
    for day in range(days if story == "reporting" else 2):
        report = {"staff_on_site": back - 2 + day, "all_healthy": True}
        followups.submit_report(
            case.pk, user, "daily_report", report, now=approved + timedelta(days=day, hours=1)
        )
    if story == "closed":
        _act(
            case,
            reviewer,
            "stop_reports",
            approved + timedelta(days=2, hours=2),
            comment="复工满两天，生产正常，停止每日报告",
        )


def _shop(n, username, shop, operator, community, kind, story, start) -> None:
    org = Org.objects.get(code=f"{STREET}{community:03d}")
    user = _user(username, operator, "person", org)
    clerk = _staff(f"clerk_yangchenghu{community}")
    t = start + timedelta(days=1, hours=n)
    by_clerk = story == "by_clerk"
    case = cases.submit(
        "shop_reopening",
        clerk if by_clerk else user,
        shop_data(n, shop, operator, kind),
        materials=shop_materials(clerk if by_clerk else user),
        on_behalf_of=user if by_clerk else None,
        idempotency_key=f"{MARK}-shop-{n}",
        now=t,
    )
    if story == "submitted":
        return
    if story == "refused":
        _act(
            case,
            clerk.username,
            "refuse",
            t + timedelta(hours=1),
            comment="营业执照上的经营场所与申报地址不一致，请核实后重新登记",
        )
        return
    _act(case, clerk.username, "confirm", t + timedelta(hours=1))
