"""Shared by the community-service pack tests (test_community_*.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tongban.services import cases
from tongban.services.audit import verify_all
from tongban.store.models import Case, Reminder

TZ = ZoneInfo("Asia/Shanghai")
XIANGCHENG = "320507103001"  # 湘城社区, 阳澄湖镇
WEITANG_COMMUNITY = "320507102001"  # 渭塘社区, 渭塘镇


def at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=TZ)


def act(case, user, action, now=None, **kw) -> Case:
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw), now=now)


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def audit_ok(*items) -> None:
    ids = [c.pk for c in items]
    assert [f for _, f in verify_all(ids)] == [None] * len(ids)


def reminded(case) -> list[int]:
    return sorted(Reminder.objects.filter(case=case).values_list("row", flat=True))


def enforcement_of(case):
    return Case.objects.filter(parent=case, matter_code="food_enforcement")
