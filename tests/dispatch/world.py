"""Small dispatch worlds in the database: places and volunteers of the demo org tree."""

from __future__ import annotations

import itertools

from tests.registry.util import id_number
from tongban.store.models import Org, Place, Volunteer

STREET = "320507103"  # 阳澄湖镇
GRID = "32050710300101"  # 湘城社区第一网格 (阳澄湖镇)
OTHER_GRID = "32050710300201"  # 消泾村第一网格 (阳澄湖镇)
CANGLANG_GRID = "32050800300101"  # 南门社区第一网格 (沧浪街道, another district)

BASE_LAT, BASE_LNG = 31.40, 120.70
_seq = itertools.count(1000)


def place(
    name: str,
    dlat: float = 0.0,
    dlng: float = 0.0,
    *,
    grid: str = GRID,
    kind: str = "核酸采样点",
    address: str = "",
) -> Place:
    p = Place(
        org=Org.objects.get(code=grid),
        name=name,
        place_type=kind,
        address=address or f"{name}地址",
        lat=BASE_LAT + dlat,
        lng=BASE_LNG + dlng,
    )
    p.save()
    return p


def volunteer(
    name: str,
    dlat: float = 0.0,
    dlng: float = 0.0,
    *,
    skills: str = "信息录入",
    availability: str = "随时",
    grid: str = GRID,
    home: bool = True,
) -> Volunteer:
    n = next(_seq)
    v = Volunteer(
        org=Org.objects.get(code=grid),
        name=name,
        id_number=id_number(n),
        phone=f"139{n:08d}",
        skills=skills,
        availability=availability,
        home_lat=BASE_LAT + dlat if home else None,
        home_lng=BASE_LNG + dlng if home else None,
    )
    v.save()
    return v
