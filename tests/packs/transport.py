"""Shared by the transport pack tests (test_transport_*.py). Times are fixed in March
2026 (the demo cases are in the present), so numbers and deadlines are exact."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tongban.services import cases
from tongban.services.demo_packs.transport import freight_data, pass_data, pass_materials
from tongban.store.models import Certificate, Outbox

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday
COMPANY = "苏州阳澄湖农产品有限公司"  # ent_demo


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def apply_pass(users, now=T0, user=None, **changes):
    user = user or users.ent_demo
    data = pass_data(1, COMPANY, start="2026-03-02", end="2026-03-08", **changes)
    return cases.submit("vehicle_pass", user, data, materials=pass_materials(user), now=now)


def act(case, user, action, now, **kw):
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw), now=now)


def issue_pass(users, now=T0, **changes):
    case = apply_pass(users, now, **changes)
    act(case, users.econ_officer_yangchenghu, "pass_review", now + timedelta(hours=1))
    act(case, users.agri_approver_xiangcheng, "approve", now + timedelta(hours=2))
    return Certificate.objects.select_related("case__matter").get(case=case)


def declare(users, user=None, now=T0, start="2026-03-02 14:00", end="2026-03-02 20:00", **kw):
    """A freight-return declaration by 张三 (or `user`), returning between start and end."""
    user = user or users.zhangsan
    data = freight_data(1, "张三", start=at(start), end=at(end), **kw)
    return cases.submit("freight_return", user, data, now=now)


def told(case) -> list[tuple[str, str, str]]:
    """The case's outbox messages in order: (topic, recipient, state label)."""
    rows = Outbox.objects.filter(case=case).order_by("pk")
    return [(m.topic, m.recipient, m.payload.get("label", "")) for m in rows]
