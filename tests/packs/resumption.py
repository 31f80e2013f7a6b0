"""Shared by the resumption pack tests (test_resumption_*.py): accounts, filings, actions.
Times are fixed in March 2025 (the demo cases are in the present)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from tongban.engine.validators import id_check_digit, uscc_check_digit
from tongban.services import cases, stats
from tongban.services.demo import DEMO_PASSWORD, sample_pdf
from tongban.services.uploads import store
from tongban.store.models import Case, Org, Profile

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday
XIANGCHENG = "320507103001"  # 湘城社区, 阳澄湖镇
XIANGCHENG_GRID = "32050710300101"  # 湘城社区第一网格
MARCH = stats.period("2025-03-01", "2025-03-31")
ENTERPRISE_MATERIALS = (
    "commitment_letter",
    "resumption_plan",
    "emergency_plan",
    "supplies_list",
    "facilities",
)


def uscc(n: int) -> str:
    first17 = f"91320507MA2{n:06d}"
    return first17 + uscc_check_digit(first17)


def id_number(n: int) -> str:
    first17 = f"32050719850505{n:03d}"
    return first17 + id_check_digit(first17)


def pdfs(user, *keys: str) -> dict:
    return {k: [store(sample_pdf(k), f"{k}.pdf", user)] for k in keys}


def enterprise(n: int = 1, **changes) -> dict:
    return {
        "company_name": f"苏州测试{n}号制造有限公司",
        "credit_code": uscc(n),
        "contact_name": "赵经理",
        "contact_phone": "138 1234 5678",
        "business_address": "阳澄湖镇湘城工业园 8 号",
        "industry": "工业制造",
        "employee_count": "120",
        "returning_count": "80",
        "resume_date": "2025-03-05",
        **changes,
    }


def shop(n: int = 1, **changes) -> dict:
    return {
        "shop_name": f"湘城{n}号小吃店",
        "operator_name": "钱小二",
        "id_number": id_number(n),
        "contact_phone": "13912340000",
        "business_address": "阳澄湖镇湘城大街 66 号",
        "business_type": "餐饮",
        **changes,
    }


def account(username: str, kind: str, org_code: str):
    user = get_user_model().objects.create_user(username, password=DEMO_PASSWORD)
    Profile.objects.create(
        user=user, kind=kind, display_name=username, home_org=Org.objects.get(code=org_code)
    )
    return user


def file_enterprise(user, n: int = 1, *, org_code: str | None = XIANGCHENG_GRID, now=T0, **data):
    return cases.submit(
        "resumption_filing",
        user,
        enterprise(n, **data),
        materials=pdfs(user, *ENTERPRISE_MATERIALS),
        org_code=org_code,
        now=now,
    )


def file_shop(user, n: int = 1, *, on_behalf_of=None, now=T0, **data):
    return cases.submit(
        "shop_reopening",
        user,
        shop(n, **data),
        materials=pdfs(user, "business_license"),
        on_behalf_of=on_behalf_of,
        now=now,
    )


def act(case, user, action, now=None, **kw) -> Case:
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw), now=now)


def payload(case, action: str) -> dict:
    return json.loads(case.events.get(action=action).body)["payload"]


CHECK = {
    "check_date": "2025-03-04",
    "check_findings": "测温点、消杀记录齐全",
    "check_result": "符合复工条件",
}


def to_review(users, case, at=T0):
    act(case, users.clerk_yangchenghu1, "accept", at + timedelta(minutes=30))
    return case


def approved(users, case, at=T0) -> Case:
    to_review(users, case, at)
    return act(case, users.resumption_reviewer_yangchenghu, "approve", at + timedelta(hours=3))
