"""Demo data: the org tree of two Suzhou districts, a user for every role, a few cases.

Codes below the district (GB/T 2260) level are illustrative, in the shape of the
statistics bureau's 9- and 12-digit codes.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from tongban.services import calendar, catalog
from tongban.services.errors import NotFound
from tongban.store.models import Case, Membership, Org, Profile, RoutingRule

DEMO_PASSWORD = "tongban-demo-2026"

TREE = {
    ("320507", "相城区", "xiangcheng"): {
        ("320507103", "阳澄湖镇", "yangchenghu"): ["湘城社区", "消泾村"],
        ("320507102", "渭塘镇", "weitang"): ["渭塘社区", "凤凰泾村"],
        ("320507101", "黄埭镇", "huangdai"): ["黄埭社区", "潘阳村"],
        ("320507001", "元和街道", "yuanhe"): ["御窑社区", "和丰社区"],
    },
    ("320508", "姑苏区", "gusu"): {
        ("320508003", "沧浪街道", "canglang"): ["南门社区", "府前社区"],
        ("320508004", "金阊街道", "jinchang"): ["石路社区", "彩香社区"],
        ("320508005", "虎丘街道", "huqiu"): ["虎丘社区", "留园社区"],
    },
}

DISTRICT_ROLES = [
    "approver",
    "urban_mgmt",
    "traffic_police",
    "head",
    "supervisor",
    "dispatcher",
    "agri_approver",
    "freight_reviewer",
    "sampler",
    "inspector",
    "market_enforcer",
    "birth_registrar",
    "social_security_officer",
    "medical_insurance_officer",
    "dept_handler",
    "dept_construction",
    "dept_environment",
    "dept_transport",
    "dept_education",
    "dept_hrss",
    "dept_commerce",
    "dept_health",
]
# The demo routing table: request category → the department role that handles it.
ROUTING = {
    "城乡建设": "dept_construction",
    "环境保护": "dept_environment",
    "交通运输": "dept_transport",
    "教育文体": "dept_education",
    "劳动和社会保障": "dept_hrss",
    "商贸旅游": "dept_commerce",
    "卫生计生": "dept_health",
}
ROLE_LABELS = {
    "approver": "审批负责人",
    "urban_mgmt": "城管会签人",
    "traffic_police": "交警会签人",
    "head": "负责人",
    "supervisor": "督办员",
    "dispatcher": "派单员",
    "clerk": "窗口受理员",
    "reviewer": "审核员",
    "mediator": "调解员",
    "grid_worker": "网格员",
    "agri_approver": "农业农村局审批人",
    "freight_reviewer": "货运报备审核员",
    "sampler": "市场监管抽样员",
    "inspector": "检验审核员",
    "market_enforcer": "市场监管执法员",
    "birth_registrar": "医院出生医学证明签发人",
    "social_security_officer": "人社局社保经办人",
    "medical_insurance_officer": "医保局经办人",
    "dept_handler": "职能部门承办人",
    "econ_officer": "经济发展办",
    "resumption_reviewer": "复工审核员",
    "disability_worker": "残联专干",
    "vaccination_officer": "社区卫生服务中心接种人员",
    "hukou_officer": "派出所户籍民警",
    "supplies_officer": "防疫物资管理员",
    "dept_construction": "住建局承办人",
    "dept_environment": "生态环境局承办人",
    "dept_transport": "交通运输局承办人",
    "dept_education": "教体局承办人",
    "dept_hrss": "人社局承办人",
    "dept_commerce": "商务文旅局承办人",
    "dept_health": "卫健委承办人",
}
STREET_ROLES = [
    "clerk",
    "reviewer",
    "head",
    "mediator",
    "econ_officer",
    "resumption_reviewer",
    "disability_worker",
    "vaccination_officer",
    "hukou_officer",
    "supplies_officer",
]


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hashing is deliberately slow; every demo account shares one password, so hash once.
    return make_password(DEMO_PASSWORD)


def _user(username: str, name: str, kind: str = "staff", home: Org | None = None):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": name, "password": _password_hash()}
    )
    Profile.objects.update_or_create(
        user=user, defaults={"kind": kind, "display_name": name, "home_org": home}
    )
    return user


def _org(code: str, name: str, level: str, parent: Org | None) -> Org:
    org = Org.objects.filter(code=code).first()
    if org is None:
        org = Org(code=code, name=name, level=level, parent=parent)
        org.save()
    return org


@transaction.atomic
def build(with_cases: bool = True) -> dict[str, list[str]]:
    """Create (or complete) the demo tree and accounts, and (unless told not to) demo
    cases of every pack; safe to run twice."""
    calendar.seed()
    accounts: dict[str, list[str]] = {}
    first_community = None
    for (dcode, dname, dpin), streets in TREE.items():
        district = _org(dcode, dname, "district", None)
        for role in DISTRICT_ROLES:
            u = _user(f"{role}_{dpin}", f"{dname}{ROLE_LABELS[role]}")
            Membership.objects.get_or_create(user=u, org=district, role=role)
            accounts.setdefault(dname, []).append(u.username)
        for (scode, sname, spin), communities in streets.items():
            street = _org(scode, sname, "street", district)
            for role in STREET_ROLES:
                u = _user(f"{role}_{spin}", f"{sname}{ROLE_LABELS[role]}")
                Membership.objects.get_or_create(user=u, org=street, role=role)
                accounts.setdefault(sname, []).append(u.username)
            for i, cname in enumerate(communities, 1):
                community = _org(f"{scode}{i:03d}", cname, "community", street)
                first_community = first_community or community
                grid = _org(f"{community.code}01", f"{cname}第一网格", "grid", community)
                u = _user(f"grid_{spin}{i}", f"{cname}网格员")
                Membership.objects.get_or_create(user=u, org=grid, role="grid_worker")
                u = _user(f"clerk_{spin}{i}", f"{cname}窗口")
                Membership.objects.get_or_create(user=u, org=community, role="clerk")
    for category, department in ROUTING.items():
        RoutingRule.objects.get_or_create(
            category=category, org=None, defaults={"department": department}
        )
    zhang = _user("zhangsan", "张三", "person", first_community)
    _user("lisi", "李四", "person", Org.objects.get(code="320508003001"))
    _user("ent_demo", "苏州阳澄湖农产品有限公司", "enterprise", first_community)
    accounts["居民和企业"] = ["zhangsan", "lisi", "ent_demo"]
    if with_cases:
        _demo_cases(zhang)
        from tongban.services.demo_packs import build_all

        build_all()
    return accounts


def demo_accounts() -> list[tuple[str, str]]:
    """(username, who they are) for the login page in demo mode."""
    rows = Profile.objects.filter(user__username__in=_featured()).select_related("user")
    order = {name: i for i, name in enumerate(_featured())}
    return sorted(((p.user.username, p.display_name) for p in rows), key=lambda r: order[r[0]])


def _featured() -> list[str]:
    return [
        "zhangsan",
        "ent_demo",
        "clerk_yangchenghu",
        "reviewer_yangchenghu",
        "urban_mgmt_xiangcheng",
        "traffic_police_xiangcheng",
        "approver_xiangcheng",
        "head_yangchenghu",
        "supervisor_xiangcheng",
        "clerk_yangchenghu1",
        "clerk_canglang",
        "lisi",
    ]


def _demo_cases(applicant) -> None:
    from tongban.services.cases import submit

    try:
        catalog.current_version("road_occupation")
    except NotFound:
        return  # the catalog is not loaded; `tongban catalog load catalog` first
    if Case.objects.filter(applicant=applicant).exists():
        return
    materials = demo_materials(applicant)
    for i, (place, area) in enumerate(
        [("阳澄湖镇湘城大街 18 号门前", 30), ("湘城社区菜场东侧", 12)]
    ):
        submit(
            "road_occupation",
            applicant,
            {
                "applicant_name": "张三",
                "contact_phone": "13812345678",
                "location": place,
                "area": area,
                "purpose": "施工",
                "start_date": "2026-12-01",
                "end_date": "2026-12-10",
                "safety_commitment": True,
            },
            idempotency_key=f"demo-{i}",
            materials=materials,
        )


def sample_pdf(title: str) -> bytes:
    """A tiny valid one-page PDF, for demo materials."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=title)
    return bytes(pdf.output())


def demo_materials(user) -> dict:
    from tongban.services.uploads import store

    return {
        "site_plan": [store(sample_pdf("site plan"), "占道平面示意图.pdf", user)],
        "id_copy": [store(sample_pdf("ID copy"), "身份证明.pdf", user)],
    }
