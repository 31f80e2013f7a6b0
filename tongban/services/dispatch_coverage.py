"""The 15-minute service circle (服务圈) of a place type, within the user's jurisdiction.

Where the residents are. The persons registry holds addresses as text but no
coordinates, and the org tree has none either; what is geolocated is the places and the
volunteers' homes (WGS84). So the population points are built in one of two ways:

- ``grid`` (default): every grid or community with registered persons is one point,
  weighted by its number of persons, placed at the centre (mean) of the coordinates
  registered in that same org — its places and its volunteers' homes, i.e. where the
  org actually is. Orgs with persons but no coordinate at all cannot be placed: their
  population is reported as ``unplaced`` and left out of the percentage.
- ``cells``: equal-weight grid cells (``cell_km``) over the area spanned by the
  registered coordinates — area coverage, for when the persons registry is empty.

Candidate sites for the K suggestions are the other places of the area (any type: a
party-service centre can host a rider rest stop) and the centres of ``cell_km`` cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import Count, Q

from tongban import dispatch as solver
from tongban.services.errors import Invalid
from tongban.services.registry import scope_of
from tongban.store.models import Org, Person, Place
from tongban.store.models import Volunteer as VolunteerProfile

SOURCES = {"grid": "人员台账（按网格/社区汇总）", "cells": "均匀网格（按面积）"}
MAX_CELLS = 40_000


def _scoped(model, user, org: Org | None):
    qs = model.objects.all() if user is None else model.objects.visible_to(user)
    if org is not None:
        qs = qs.filter(**{f"j_{org.level}": org.code})
    return qs


def place_types(user) -> list[str]:
    qs = _scoped(Place, user, None).exclude(lat=None)
    return sorted(set(qs.values_list("place_type", flat=True)))


def _points_by_org(user, org):
    """(lat, lng, population, org label) per grid/community with persons, and unplaced."""
    counts = dict(
        _scoped(Person, user, org).values_list("org_id").annotate(n=Count("pk")).order_by()
    )
    coords: dict[int, list[tuple[float, float]]] = {}
    for oid, lat, lng in (
        _scoped(Place, user, org).exclude(lat=None).values_list("org_id", "lat", "lng")
    ):
        coords.setdefault(oid, []).append((lat, lng))
    vols = _scoped(VolunteerProfile, user, org).exclude(home_lat=None)
    for oid, lat, lng in vols.values_list("org_id", "home_lat", "home_lng"):
        coords.setdefault(oid, []).append((lat, lng))
    names = dict(Org.objects.filter(pk__in=counts).values_list("pk", "name"))
    lat, lng, pop, labels, unplaced = [], [], [], [], []
    for oid, n in sorted(counts.items()):
        pts = coords.get(oid)
        if not pts:
            unplaced.append({"org": names.get(oid, str(oid)), "population": n})
            continue
        a = np.asarray(pts)
        lat.append(float(a[:, 0].mean()))
        lng.append(float(a[:, 1].mean()))
        pop.append(float(n))
        labels.append(names.get(oid, str(oid)))
    return np.asarray(lat), np.asarray(lng), np.asarray(pop), labels, unplaced


def _bbox(user, org) -> tuple[float, float, float, float] | None:
    pts = list(_scoped(Place, user, org).exclude(lat=None).values_list("lat", "lng"))
    vols = _scoped(VolunteerProfile, user, org).exclude(home_lat=None)
    pts += list(vols.values_list("home_lat", "home_lng"))
    if not pts:
        return None
    a = np.asarray(pts)
    return float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 0].max()), float(a[:, 1].max())


def _cells(box, cell_km: float):
    lat0, lng0, lat1, lng1 = box
    pad_lat = cell_km / 111.0
    pad_lng = cell_km / (111.0 * max(np.cos(np.radians((lat0 + lat1) / 2)), 0.1))
    n = ((lat1 - lat0 + 2 * pad_lat) / pad_lat + 1) * ((lng1 - lng0 + 2 * pad_lng) / pad_lng + 1)
    if n > MAX_CELLS:
        raise Invalid(f"范围太大：{cell_km} 公里的网格有约 {int(n)} 个格子，请加大网格边长")
    return solver.grid_points(
        lat0 - pad_lat, lng0 - pad_lng, lat1 + pad_lat, lng1 + pad_lng, cell_km
    )


def _number(value, name: str, lo: float, hi: float, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name}应为数字") from None
    if not lo <= x <= hi:
        raise Invalid(f"{name}应在 {lo:g} 到 {hi:g} 之间")
    return x


def service_circle(
    user,
    place_type: str,
    *,
    mode: str = "walk",
    detour=1.3,
    minutes=15,
    k=3,
    source: str = "grid",
    cell_km=0.5,
    org: Org | None = None,
) -> dict[str, Any]:
    """Coverage of ``place_type`` within the user's area, ECharts map data and K
    suggested new sites. Raises Invalid on bad parameters (in Chinese)."""
    if user is not None:
        scope_of(user)  # Forbidden unless staff
    if mode not in solver.MODES:
        raise Invalid("出行方式应为步行或电动自行车")
    if source not in SOURCES:
        raise Invalid("人口来源应为人员台账或均匀网格")
    detour = _number(detour, "绕行系数", 1.0, 3.0, 1.3)
    minutes = _number(minutes, "时间", 1, 120, 15)
    k = int(_number(k, "建议新址数量", 0, 20, 3))
    cell_km = _number(cell_km, "网格边长", 0.1, 5, 0.5)
    travel = solver.MODES[mode].with_detour(detour)
    places = _scoped(Place, user, org).exclude(lat=None)
    chosen = list(places.filter(place_type=place_type).values_list("name", "lat", "lng"))
    others = list(places.filter(~Q(place_type=place_type)).values_list("name", "lat", "lng"))
    unplaced: list[dict] = []
    if source == "grid":
        plat, plng, pop, _labels, unplaced = _points_by_org(user, org)
    else:
        box = _bbox(user, org)
        if box is None:
            plat = plng = pop = np.zeros(0)
        else:
            plat, plng = _cells(box, cell_km)
            pop = np.ones(len(plat))
    if not len(plat):
        return {"empty": True, "unplaced": unplaced, "sites": len(chosen)}
    slat = np.asarray([c[1] for c in chosen], dtype=float)
    slng = np.asarray([c[2] for c in chosen], dtype=float)
    result = solver.coverage(plat, plng, slat, slng, pop, minutes=minutes, mode=travel)
    box = (float(plat.min()), float(plng.min()), float(plat.max()), float(plng.max()))
    glat, glng = _cells(box, cell_km)
    clat = np.concatenate([[o[1] for o in others], glat])
    clng = np.concatenate([[o[2] for o in others], glng])
    cand_names = [o[0] for o in others]
    found = solver.suggest_sites(
        clat,
        clng,
        plat,
        plng,
        pop,
        k=k,
        sites_lat=slat,
        sites_lng=slng,
        minutes=minutes,
        mode=travel,
    )
    page = solver.map_data(
        plat, plng, result, slat, slng, site_names=[c[0] for c in chosen], suggestions=found
    )
    suggestions = [
        {
            "rank": s.rank,
            "lat": round(s.lat, 6),
            "lng": round(s.lng, 6),
            "where": cand_names[s.index] if s.index < len(cand_names) else "网格中心点",
            "added_population": round(s.added_population, 1),
            "ratio": s.ratio,
            "ratio_pct": round(s.ratio * 100, 1),
        }
        for s in found
    ]
    summary = result.summary()
    return {
        "empty": False,
        "summary": summary,
        "ratio_pct": round(summary["ratio"] * 100, 1),
        "mode_label": travel.label,
        "speed_kmh": travel.speed_kmh,
        "radius_km": round(travel.speed_kmh * minutes / 60 / travel.detour, 2),
        "option": page["option"],
        "aspect": page["summary"]["aspect"],
        "sites": len(chosen),
        "suggestions": suggestions,
        "unplaced": unplaced,
        "source": source,
        "source_label": SOURCES[source],
    }
