"""Demo cases for 重点物资运输车辆通行证 and 货运车辆返程报备 in 阳澄湖镇 (相城区).

Vehicle passes: ent_demo holds an issued pass (valid this week) and has a second vehicle
waiting for the town's economic office; other enterprises wait for the district's
agriculture bureau, have been asked to correct, or were refused. Freight returns: a driver
whose return code is valid now, one who ran late and amended his return time (the first
code superseded, the new one valid now), one declaration waiting for review (the worker
marks it overdue after 10 minutes and tells the unit head), one finished.

Every case goes through the case service like a real one, at times in the last days.
`tongban demo` runs it; it is safe to run twice (nothing is created when the demo cases
exist) and does nothing before the catalog is loaded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tongban.engine.validators import id_check_digit, uscc_check_digit
from tongban.services import cases, catalog
from tongban.services.demo import _user, sample_pdf
from tongban.services.errors import NotFound
from tongban.services.uploads import store
from tongban.store.models import Case, Org

MARK = "demo-transport"  # idempotency-key prefix of the demo cases
COMMUNITY = "320507103001"  # 湘城社区, 阳澄湖镇
ECON = "econ_officer_yangchenghu"
AGRI = "agri_approver_xiangcheng"
FREIGHT = "freight_reviewer_xiangcheng"
PASS_MATERIALS = {
    "business_licence": "营业执照",
    "vehicle_licence": "机动车行驶证",
    "driving_licence": "驾驶员驾驶证",
}


def uscc(n: int) -> str:
    """A valid, made-up unified social credit code of 相城区 (GB 32100 check digit)."""
    first17 = f"91320507MA2{n:06d}"
    return first17 + uscc_check_digit(first17)


def id_number(n: int, born: str = "19850312") -> str:
    """A valid, made-up resident ID number of 相城区."""
    first17 = f"320507{born}{n:03d}"
    return first17 + id_check_digit(first17)


def local_date(t: datetime, days: int = 0) -> str:
    return (timezone.localtime(t) + timedelta(days=days)).date().isoformat()


def local_minute(t: datetime) -> str:
    """A datetime field value as typed: 2026-03-01 08:30 (Beijing)."""
    return f"{timezone.localtime(t):%Y-%m-%d %H:%M}"


def pass_data(n: int, company: str, *, start: str, end: str, **extra) -> dict:
    """A complete, valid vehicle-pass application."""
    return {
        "company_name": company,
        "credit_code": uscc(n),
        "contact_name": "陈经理",
        "contact_phone": f"1391520{n:04d}",
        "plate_number": f"苏E{n % 10}{(n * 7) % 10}F{n:02d}",
        "vehicle_type": "冷藏车",
        "rated_load": 8,
        "drivers": [
            {
                "driver_name": "王建军",
                "driver_id": id_number(n),
                "driver_phone": f"1381520{n:04d}",
                "licence_number": id_number(n),
            },
            {
                "driver_name": "刘海",
                "driver_id": id_number(n + 500, "19900706"),
                "driver_phone": f"1381521{n:04d}",
                "licence_number": id_number(n + 500, "19900706"),
            },
        ],
        "goods_category": "农产品",
        "goods_detail": "阳澄湖大闸蟹 3 吨、蔬菜 5 吨",
        "origin": "苏州市相城区阳澄湖镇湘城农产品基地",
        "destination": "苏州市南环桥农副产品批发市场",
        "route": "阳澄湖大道—中环北线—中环东线—南环高架—南环桥市场",
        "valid_from": start,
        "valid_to": end,
        "transport_commitment": True,
        **extra,
    }


def freight_data(n: int, driver: str, *, start: datetime, end: datetime, **extra) -> dict:
    """A complete, valid freight-return declaration."""
    return {
        "driver_name": driver,
        "driver_id": id_number(n, "19780521"),
        "driver_phone": f"1375120{n:04d}",
        "company_name": "苏州湘城物流有限公司",
        "plate_number": f"苏E{n:02d}7{n % 10}8",
        "origin": "浙江省嘉兴市南湖区",
        "destination": "苏州市相城区阳澄湖镇湘城物流园",
        "cargo": "空车",
        "return_from": local_minute(start),
        "return_to": local_minute(end),
        "return_commitment": True,
        **extra,
    }


@lru_cache(maxsize=4)
def _pdf(title: str) -> bytes:
    return sample_pdf(title)


def pass_materials(user) -> dict:
    return {key: [store(_pdf(key), f"{name}.pdf", user)] for key, name in PASS_MATERIALS.items()}


def _staff(name: str):
    return get_user_model().objects.get(username=name)


def _act(case: Case, username: str, action: str, at: datetime, **kw) -> Case:
    return cases.act(case.pk, _staff(username), cases.ActRequest(action=action, **kw), now=at)


@transaction.atomic
def build() -> None:
    try:
        catalog.current_version("vehicle_pass")
        catalog.current_version("freight_return")
    except NotFound:
        return  # the catalog is not loaded; `tongban catalog load catalog` first
    if Case.objects.filter(idempotency_key__startswith=MARK).exists():
        return
    now = timezone.now()
    _passes(now)
    _freight(now)


def _passes(now: datetime) -> None:
    org = Org.objects.get(code=COMMUNITY)
    ent_demo = _staff("ent_demo")
    others = {
        n: _user(f"ent_transport{n}", name, "enterprise", org)
        for n, name in [
            (2, "苏州湘城冷链物流有限公司"),
            (3, "苏州阳澄湖生鲜配送有限公司"),
            (4, "苏州湘城医药物流有限公司"),
        ]
    }
    start, end = local_date(now), local_date(now, 6)
    # ent_demo: one pass issued two days ago, valid this week; a second vehicle in review.
    t = now - timedelta(days=2)
    case = _submit(
        "vehicle_pass", ent_demo, 1, pass_data(1, _name(ent_demo), start=start, end=end), t
    )
    _act(case, ECON, "pass_review", t + timedelta(hours=1), comment="材料齐全，物资属重点保供范围")
    _act(case, AGRI, "approve", t + timedelta(hours=3))
    t = now - timedelta(hours=2)
    _submit(
        "vehicle_pass",
        ent_demo,
        2,
        pass_data(2, _name(ent_demo), start=start, end=end, vehicle_type="厢式货车"),
        t,
    )
    # Waiting for the district, asked to correct, refused.
    t = now - timedelta(hours=5)
    case = _submit(
        "vehicle_pass", others[2], 3, pass_data(3, _name(others[2]), start=start, end=end), t
    )
    _act(case, ECON, "pass_review", t + timedelta(hours=1))
    t = now - timedelta(hours=4)
    data = pass_data(4, _name(others[3]), start=start, end=end, goods_category="生活物资")
    case = _submit("vehicle_pass", others[3], 4, data, t)
    _act(
        case,
        ECON,
        "request_correction",
        t + timedelta(minutes=40),
        comment="行驶证照片不清晰，请重新上传；通行路线请写明途经的卡口",
    )
    t = now - timedelta(days=1)
    data = pass_data(5, _name(others[4]), start=start, end=end, goods_category="其他")
    data["goods_detail"] = "办公家具 2 吨"
    case = _submit("vehicle_pass", others[4], 5, data, t)
    _act(case, ECON, "pass_review", t + timedelta(hours=1), comment="物资类别为其他，请区局研判")
    _act(
        case,
        AGRI,
        "refuse",
        t + timedelta(hours=2),
        comment="办公家具不属于重点保供物资，不予核发通行证",
    )


def _name(user) -> str:
    return user.profile.display_name


def _submit(matter: str, user, n: int, data: dict, at: datetime) -> Case:
    return cases.submit(
        matter,
        user,
        data,
        materials=pass_materials(user) if matter == "vehicle_pass" else None,
        idempotency_key=f"{MARK}-{matter}-{n}",
        now=at,
    )


def _freight(now: datetime) -> None:
    org = Org.objects.get(code=COMMUNITY)
    drivers = {
        n: _user(f"driver_yangchenghu{n}", name, "person", org)
        for n, name in [(1, "王立新"), (2, "赵永强"), (3, "孙国华"), (4, "周建平")]
    }
    hour = timedelta(hours=1)
    # 1: code valid now.
    t = now - 3 * hour
    case = _submit(
        "freight_return", drivers[1], 1, _f(1, drivers[1], now - hour, now + 5 * hour), t
    )
    _act(case, FREIGHT, "approve", t + timedelta(minutes=4))
    # 2: ran late; amended the return time; the first code is superseded.
    t = now - 30 * hour
    data = _f(2, drivers[2], now - 28 * hour, now - 22 * hour, cargo="服装 6 吨")
    case = _submit("freight_return", drivers[2], 2, data, t)
    _act(case, FREIGHT, "approve", t + timedelta(minutes=6))
    amend = {"return_from": local_minute(now - 2 * hour), "return_to": local_minute(now + 6 * hour)}
    _act(case, drivers[2].username, "amend_return", now - 20 * hour, data=amend)
    _act(case, FREIGHT, "approve", now - 20 * hour + timedelta(minutes=5))
    # 3: waiting for review (overdue 10 minutes after it was filed).
    t = now - timedelta(minutes=3)
    _submit("freight_return", drivers[3], 3, _f(3, drivers[3], now + 2 * hour, now + 9 * hour), t)
    # 4: back home, finished.
    t = now - 52 * hour
    case = _submit("freight_return", drivers[4], 4, _f(4, drivers[4], t + hour, t + 8 * hour), t)
    _act(case, FREIGHT, "approve", t + timedelta(minutes=7))
    _act(case, drivers[4].username, "confirm_return", t + 7 * hour)


def _f(n: int, user, start: datetime, end: datetime, **extra) -> dict:
    return freight_data(n, _name(user), start=start, end=end, **extra)
