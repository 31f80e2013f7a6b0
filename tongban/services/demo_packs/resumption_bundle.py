"""Demo of 企业复工一件事 (the resumption bundle) in 阳澄湖镇 湘城社区.

One enterprise files its resumption, passes for five employees and a supplies request in
one submission; the filing has its receipt, so the passes started with the receipt number;
three passes are issued, one refused (the employee declared a fever), one waits for the
epidemic office; the supplies approval is issued. Also the accounts of the 疫情防控办 role
(`epidemic_officer_<street>`), which the core demo does not know.

The answer builders are shared with the bench and the tests (`answers`, `materials`).
`tongban demo` runs `build`; it is safe to run twice (nothing is made when the bundle
exists) and does nothing before the catalog is loaded.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tongban.engine.validators import id_check_digit, uscc_check_digit
from tongban.services import bundles, cases, catalog
from tongban.services.demo import TREE, _user, sample_pdf
from tongban.services.errors import NotFound, ServiceError
from tongban.services.uploads import store
from tongban.store.models import Bundle, BundleItem, Membership, Org

log = logging.getLogger("tongban.demo")

MARK = "demo-resumption-bundle"
COMMUNITY = "320507103001"  # 湘城社区, 阳澄湖镇
NAMES = ["王建华", "李秀兰", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴芳"]
ROADS = ["澄阳路", "湘城大街", "阳澄湖大道", "渭中路", "太阳路"]
MATERIALS = {
    "commitment_letter": "复工承诺书",
    "resumption_plan": "复工方案",
    "emergency_plan": "疫情防控应急预案",
    "supplies_list": "防疫物资清单",
    "facilities": "防控设施情况",
    "business_licence": "营业执照",
}


def uscc(n: int) -> str:
    first17 = f"91320507MA3{n:06d}"
    return first17 + uscc_check_digit(first17)


def id_number(n: int) -> str:
    """A valid, made-up resident ID number of 相城区 (born 1990-06-15)."""
    first17 = f"32050719900615{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def employee(n: int, **changes) -> dict:
    return {
        "employee_name": NAMES[n % len(NAMES)] + ("" if n < len(NAMES) else str(n)),
        "employee_id": id_number(n),
        "employee_phone": f"1390512{n:04d}",
        "residence": f"阳澄湖镇湘城社区 {n % 20 + 1} 幢",
        "commute_mode": "自行车或电动车",
        "commute_route": f"湘城社区—{ROADS[n % len(ROADS)]}—湘城工业园",
        "health_status": "健康",
        "body_temperature": "36.5",
        "travel_history": False,
        **changes,
    }


def answers(n: int = 1, employees: int = 5, **changes) -> dict:
    """The merged form of the resumption bundle, filled in for a made-up enterprise."""
    return {
        "company_name": f"苏州湘城{n}号食品有限公司",
        "credit_code": uscc(n),
        "contact_name": "孙经理",
        "contact_phone": "13812340001",
        "business_address": "阳澄湖镇湘城工业园 18 号",
        "industry": "工业制造",
        "employee_count": 60,
        "returning_count": max(employees, 1),
        "resume_date": "2026-03-02",
        "valid_to": "2026-03-31",
        "health_commitment": True,
        "supplies_needed": [
            {"supply_item": "医用外科口罩", "quantity": 2 * 14 * max(employees, 1)},
            {"supply_item": "含氯消毒液", "quantity": 20},
            {"supply_item": "电子体温计", "quantity": 5},
        ],
        "delivery_address": "阳澄湖镇湘城工业园 18 号 门卫室",
        "needed_by": "2026-03-01",
        "supplies_commitment": True,
        "employees": [employee(i) for i in range(1, employees + 1)],
        **changes,
    }


def materials(user) -> dict:
    return {k: [store(sample_pdf(k), f"{name}.pdf", user)] for k, name in MATERIALS.items()}


def ensure_accounts() -> None:
    """An epidemic-office account at every demo street (the core demo predates the role)."""
    for streets in TREE.values():
        for (code, name, pin), _ in streets.items():
            street = Org.objects.filter(code=code).first()
            if street is None:
                continue
            user = _user(f"epidemic_officer_{pin}", f"{name}疫情防控办")
            Membership.objects.get_or_create(user=user, org=street, role="epidemic_officer")


def build() -> None:
    try:
        catalog.current_version("resumption", kind="bundle")
    except NotFound:
        return  # the catalog is not loaded; `tongban catalog load catalog` first
    with transaction.atomic():
        ensure_accounts()
    if Bundle.objects.filter(idempotency_key=MARK).exists():
        return
    try:
        with transaction.atomic():
            _story(timezone.now() - timedelta(days=1))
    except ServiceError as exc:  # demo data is a convenience: never block `tongban demo`
        log.warning("resumption bundle demo skipped: %s", exc)


def _act(case, username: str, action: str, at, **kw) -> None:
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username=username)
    cases.act(case.pk, staff, cases.ActRequest(action=action, **kw), now=at)


def _story(t) -> None:
    home = Org.objects.get(code=COMMUNITY)
    user = _user("ent_yangchenghu9", "苏州湘城9号食品有限公司", "enterprise", home)
    day = timezone.localdate(t)
    data = answers(
        9,
        5,
        resume_date=(day + timedelta(days=2)).isoformat(),
        valid_to=(day + timedelta(days=30)).isoformat(),
        needed_by=(day + timedelta(days=1)).isoformat(),
    )
    data["employees"][3] = employee(4, health_status="有发热、咳嗽等症状", body_temperature="37.9")
    b = bundles.submit(
        "resumption", user, data, materials=materials(user), idempotency_key=MARK, now=t
    )
    items = {(i.key, i.row): i for i in b.items.select_related("case")}
    filing, supplies = items[("filing", 0)].case, items[("supplies", 0)].case
    _act(filing, "clerk_yangchenghu1", "accept", t + timedelta(hours=1))
    _act(filing, "resumption_reviewer_yangchenghu", "approve", t + timedelta(hours=3))
    _act(supplies, "econ_officer_yangchenghu", "pass_review", t + timedelta(hours=2))
    _act(supplies, "supplies_officer_yangchenghu", "approve", t + timedelta(hours=4))
    passes = BundleItem.objects.filter(bundle=b, key="passes").select_related("case")
    for row in passes.order_by("row"):
        at = t + timedelta(hours=4, minutes=10 * row.row)
        _act(row.case, "econ_officer_yangchenghu", "pass_review", at)
        if row.row == 4:
            continue  # still with the epidemic office
        if row.row == 3:
            _act(
                row.case,
                "epidemic_officer_yangchenghu",
                "refuse",
                at + timedelta(hours=1),
                comment="申报体温 37.9℃、有咳嗽症状，请先到发热门诊排查，痊愈后重新申请",
            )
            continue
        _act(row.case, "epidemic_officer_yangchenghu", "issue", at + timedelta(hours=1))
