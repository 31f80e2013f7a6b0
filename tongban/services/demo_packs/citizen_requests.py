"""Demo 诉求 (residents' requests) in 相城区, so the dispatcher queue, the departments' work
and the request dashboard have something to show after `make run`: a few requests raised
over the last days, routed by the classifier (or waiting for the dispatcher when it is not
sure, or when no model is trained), some of them handled through to the callback.

Safe to run twice: nothing is added when demo requests already exist."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from tongban.services import requests
from tongban.services.demo_packs.community_common import _act, _u, log
from tongban.services.errors import ServiceError
from tongban.store.models import Case, Membership

DISTRICT = "320507"  # 相城区

# (filer, type, text, address, days ago, how far it goes)
REQUESTS = [
    (
        "zhangsan",
        "投诉",
        "湘城大街18号门前路灯坏了三天了，晚上很黑，老人走路容易摔倒，请尽快维修。",
        "阳澄湖镇湘城大街18号",
        6,
        "closed",
    ),
    (
        "zhangsan",
        "求助",
        "小区东门的下水道堵塞，污水漫到人行道上，气味很大，希望有关部门来疏通。",
        "阳澄湖镇湘城社区东门",
        5,
        "replied",
    ),
    (
        "lisi",
        "投诉",
        "渭塘镇一家饭店晚上十一点以后还在门口烧烤，油烟和噪音影响居民休息。",
        "渭塘镇渭塘大街",
        4,
        "handling",
    ),
    (
        "zhangsan",
        "咨询",
        "孩子明年上小学，想咨询一下阳澄湖镇的学区划分和入学报名需要准备哪些材料。",
        "阳澄湖镇",
        3,
        "dispatched",
    ),
    (
        "lisi",
        "建议",
        "建议在黄埭镇中心菜场附近增设公交站点，现在老人买菜要走二十多分钟。",
        "黄埭镇中心菜场",
        2,
        "dispatched",
    ),
    (
        "zhangsan",
        "投诉",
        "公司拖欠了我两个月工资一直不发，老板说没钱，请帮忙维护我的合法权益。",
        "元和街道",
        1,
        "dispatched",
    ),
    (
        "lisi",
        "求助",
        "楼上住户装修把我家卫生间的墙面弄渗水了，协商几次都没有结果。",
        "阳澄湖镇湘城社区",
        0,
        "registered",
    ),
]


def _staff(role: str) -> object | None:
    m = (
        Membership.objects.filter(role=role)
        .filter(Q(org__path=DISTRICT) | Q(org__path__startswith=f"{DISTRICT}/"))
        .select_related("user")
        .order_by("org__path", "pk")
        .first()
    )
    return m.user if m else None


def _advance(case: Case, goal: str, day) -> None:
    """Take a request as far as `goal`: dispatched (by hand when the classifier was not sure,
    with its suggestion), accepted, replied, called back and closed."""
    if goal == "registered":
        return
    dispatcher = _staff("dispatcher")
    if dispatcher is None:
        return
    if case.state == "registered":
        case = requests.dispatch(case.pk, dispatcher, case.data.get("category") or "城乡建设")
    handler = _staff(case.pending_role)
    if goal == "dispatched" or case.state != "dispatched" or handler is None:
        return
    case = _act(case, handler, "accept", day + timedelta(hours=1))
    if goal == "handling":
        return
    reply = "已安排人员到现场处理，问题已解决，感谢您的反映。"
    case = _act(case, handler, "reply", day + timedelta(hours=20), comment=reply)
    if goal == "replied":
        return
    _act(
        case,
        dispatcher,
        "callback",
        day + timedelta(hours=26),
        comment="电话回访，群众认可处理结果",
        data={"satisfaction": "满意"},
    )


def build() -> None:
    if Case.objects.filter(matter_code=requests.MATTER, j_district=DISTRICT).exists():
        return
    now = timezone.now().replace(hour=9, minute=30, second=0, microsecond=0)
    for filer, kind, text, address, days_ago, goal in REQUESTS:
        day = now - timedelta(days=days_ago)
        try:
            case = requests.intake(
                _u(filer),
                {"request_type": kind, "content": text, "address": address},
                org_code=DISTRICT,
                now=day,
            )
            _advance(case, goal, day)
        except ServiceError as exc:  # demo data is a convenience: never block `tongban demo`
            log.warning("request demo skipped (%s): %s", text[:12], exc)
