"""Service circles: who reaches a site within T minutes, and where new sites help most.

Points are residential points or grid cells (``grid_points``), each with a population.
Travel: a mode's speed (walking 5 km/h, e-bike 15 km/h) along either

- the straight line × a detour factor (1.3 by default): a point is reached when
  ``distance × detour / speed ≤ T``; computed for all points at once with a KD-tree of
  the sites on 3-D points of the sphere (1 M points × 5 k sites in about a second); or
- a road graph (:class:`tongban.dispatch.osm.RoadGraph`): points and sites snap to their
  nearest road node (that leg counted straight, without detour), then Dijkstra from all
  sites at once over the roads.

``suggest_sites`` picks K candidate places that add the most covered population, by
greedy maximum coverage (lazy evaluation: a candidate's gain only shrinks as others are
chosen, so a stale gain is an upper bound). Greedy is within 1 − 1/e of the best K-set.
``map_data`` turns a result into an ECharts option (value axes of longitude and latitude,
no tile server) for an offline map page.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from tongban.dispatch import geo


@dataclass(frozen=True, slots=True)
class TravelMode:
    name: str
    speed_kmh: float
    detour: float = 1.3
    label: str = ""

    def reach_km(self, minutes: float) -> float:
        """Distance travelled in ``minutes`` (along the way)."""
        return self.speed_kmh * minutes / 60.0

    def straight_km(self, minutes: float) -> float:
        """Straight-line radius reached in ``minutes`` with the detour factor."""
        return self.reach_km(minutes) / self.detour

    def with_detour(self, detour: float) -> TravelMode:
        return TravelMode(self.name, self.speed_kmh, detour, self.label)


WALK = TravelMode("walk", 5.0, 1.3, "步行")
EBIKE = TravelMode("ebike", 15.0, 1.3, "电动自行车")
MODES = {m.name: m for m in (WALK, EBIKE)}


@dataclass
class Coverage:
    """Per point: ``reached``, ``minutes`` to the nearest site (inf beyond the limit) and
    that site's index (``nearest``, −1 beyond). Totals: population covered and its share;
    ``site_population``: residents within reach for whom each site is the nearest."""

    minutes_limit: float
    mode: TravelMode
    reached: np.ndarray
    minutes: np.ndarray
    nearest: np.ndarray
    population: np.ndarray
    site_population: np.ndarray
    road_graph: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def covered_population(self) -> float:
        return float(self.population[self.reached].sum())

    @property
    def total_population(self) -> float:
        return float(self.population.sum())

    @property
    def ratio(self) -> float:
        total = self.total_population
        return self.covered_population / total if total else 0.0

    @property
    def points_reached(self) -> int:
        return int(self.reached.sum())

    def summary(self) -> dict[str, Any]:
        return {
            "mode": self.mode.name,
            "speed_kmh": self.mode.speed_kmh,
            "detour": None if self.road_graph else self.mode.detour,
            "minutes": self.minutes_limit,
            "road_graph": self.road_graph,
            "points": int(len(self.reached)),
            "points_reached": self.points_reached,
            "population": self.total_population,
            "covered_population": self.covered_population,
            "ratio": self.ratio,
        }


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(-1)


def _population(population, n: int) -> np.ndarray:
    if population is None:
        return np.ones(n)
    pop = _arr(population)
    if len(pop) != n:
        raise ValueError("population must have one value per point")
    return pop


def coverage(
    points_lat,
    points_lng,
    sites_lat,
    sites_lng,
    population=None,
    *,
    minutes: float = 15.0,
    mode: TravelMode = WALK,
    graph=None,
) -> Coverage:
    """Which points reach a site within ``minutes`` by ``mode`` (straight line × detour,
    or along ``graph``, a :class:`~tongban.dispatch.osm.RoadGraph`)."""
    plat, plng = _arr(points_lat), _arr(points_lng)
    slat, slng = _arr(sites_lat), _arr(sites_lng)
    n = len(plat)
    pop = _population(population, n)
    nearest = np.full(n, -1, dtype=np.int64)
    km = np.full(n, np.inf)
    if graph is None:
        if len(slat) and n:
            r = mode.straight_km(minutes)
            chord, idx = cKDTree(geo.to_xyz(slat, slng)).query(
                geo.to_xyz(plat, plng),
                k=1,
                distance_upper_bound=float(geo.chord_km(r)),
                workers=-1,
            )
            hit = np.isfinite(chord)
            km[hit] = geo.arc_km(chord[hit]) * mode.detour
            nearest[hit] = idx[hit]
    elif len(slat) and n:
        reach = mode.reach_km(minutes)
        node_km, node_site = graph.to_nearest(slat, slng, limit_km=reach)
        pnode, pkm = graph.snap(plat, plng)
        total = pkm + node_km[pnode]
        hit = np.isfinite(total)
        km[hit] = total[hit]
        nearest[hit] = node_site[pnode[hit]]
    mins = km / mode.speed_kmh * 60.0
    reached = mins <= minutes * (1 + 1e-12)
    mins[~reached] = np.inf
    nearest[~reached] = -1
    site_pop = np.bincount(nearest[reached], weights=pop[reached], minlength=len(slat))
    return Coverage(minutes, mode, reached, mins, nearest, pop, site_pop, graph is not None)


def grid_points(lat_min, lng_min, lat_max, lng_max, cell_km: float = 0.25):
    """Centres of square-ish cells of ``cell_km`` over a box: (lat, lng) arrays, row by
    row from the south-west corner. Give each cell its population (e.g. from a census
    grid) to use them as points."""
    mid = np.radians((lat_min + lat_max) / 2.0)
    dlat = cell_km / (np.pi * geo.EARTH_RADIUS_KM / 180.0)
    dlng = dlat / max(np.cos(mid), 1e-6)
    lats = np.arange(lat_min + dlat / 2, lat_max, dlat)
    lngs = np.arange(lng_min + dlng / 2, lng_max, dlng)
    glat, glng = np.meshgrid(lats, lngs, indexing="ij")
    return glat.reshape(-1), glng.reshape(-1)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Candidate ``index`` (into the candidates given) adds ``added_population``;
    coverage after it is ``covered_population`` (``ratio`` of all)."""

    rank: int
    index: int
    lat: float
    lng: float
    added_population: float
    covered_population: float
    ratio: float


def _reach_sets(clat, clng, plat, plng, mode, minutes, graph, among: np.ndarray):
    """CSR of the points (indices into the full arrays, restricted to ``among``) each
    candidate reaches: (indptr, indices)."""
    pts = np.flatnonzero(among)
    if not len(pts) or not len(clat):
        return np.zeros(len(clat) + 1, np.int64), np.zeros(0, np.int64)
    r = mode.straight_km(minutes) if graph is None else mode.reach_km(minutes)
    tree = cKDTree(geo.to_xyz(plat[pts], plng[pts]))
    hits = tree.query_ball_point(geo.to_xyz(clat, clng), r=float(geo.chord_km(r)), workers=-1)
    lens = np.fromiter((len(h) for h in hits), np.int64, len(hits))
    flat = pts[np.fromiter((i for h in hits for i in h), np.int64, int(lens.sum()))]
    owner = np.repeat(np.arange(len(clat)), lens)
    if graph is None:
        km = geo.distance_km(clat[owner], clng[owner], plat[flat], plng[flat]) * mode.detour
        ok = km <= mode.reach_km(minutes) * (1 + 1e-12)
    else:  # straight-line ball first (roads are never shorter), then along the roads
        ok = np.zeros(len(flat), bool)
        pnode, pkm = graph.snap(plat[flat], plng[flat])
        for c in range(len(clat)):
            sl = slice(int(lens[:c].sum()), int(lens[: c + 1].sum()))
            if sl.start == sl.stop:
                continue
            node_km, _ = graph.to_nearest(clat[c : c + 1], clng[c : c + 1], limit_km=r)
            ok[sl] = pkm[sl] + node_km[pnode[sl]] <= r * (1 + 1e-12)
    flat, owner = flat[ok], owner[ok]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(clat)))])
    return indptr, flat


def suggest_sites(
    candidates_lat,
    candidates_lng,
    points_lat,
    points_lng,
    population=None,
    *,
    k: int = 5,
    sites_lat=(),
    sites_lng=(),
    minutes: float = 15.0,
    mode: TravelMode = WALK,
    graph=None,
) -> list[Suggestion]:
    """Up to ``k`` candidates that, added to the existing sites, cover the most population
    (greedy maximum coverage, lazily evaluated). Stops early when nothing adds coverage.
    Ties go to the candidate listed first."""
    clat, clng = _arr(candidates_lat), _arr(candidates_lng)
    plat, plng = _arr(points_lat), _arr(points_lng)
    pop = _population(population, len(plat))
    base = coverage(plat, plng, sites_lat, sites_lng, pop, minutes=minutes, mode=mode, graph=graph)
    covered = base.reached.copy()
    total = float(pop.sum())
    now = float(pop[covered].sum())
    indptr, idx = _reach_sets(clat, clng, plat, plng, mode, minutes, graph, ~covered)
    owner = np.repeat(np.arange(len(clat)), np.diff(indptr))
    gain0 = np.bincount(owner, weights=pop[idx], minlength=len(clat))
    heap = [(-float(g), int(c)) for c, g in enumerate(gain0)]
    heapq.heapify(heap)
    out: list[Suggestion] = []
    while heap and len(out) < k:
        neg, c = heapq.heappop(heap)
        mine = idx[indptr[c] : indptr[c + 1]]
        fresh = mine[~covered[mine]]
        g = float(pop[fresh].sum())
        if heap and g < -heap[0][0] - 1e-9 * max(total, 1.0):
            heapq.heappush(heap, (-g, c))  # stale: others may now beat it
            continue
        if g <= 0:
            break
        covered[fresh] = True
        now += g
        out.append(
            Suggestion(
                len(out) + 1,
                c,
                float(clat[c]),
                float(clng[c]),
                g,
                now,
                now / total if total else 0.0,
            )
        )
    return out


def map_data(
    points_lat,
    points_lng,
    result: Coverage,
    sites_lat,
    sites_lng,
    *,
    site_names: Sequence[str] | None = None,
    suggestions: Sequence[Suggestion] = (),
    bins: int = 120,
    title: str | None = None,
) -> dict[str, Any]:
    """An ECharts ``option`` (plus ``summary``) for an offline map page: residents
    aggregated into ``bins × bins`` cells (covered in green, not covered in red, symbol
    size by population), sites as blue pins, suggestions as numbered orange pins. The axes
    are longitude and latitude; keep the chart's width/height near ``aspect`` (given in
    the result) so distances look right."""
    plat, plng = _arr(points_lat), _arr(points_lng)
    slat, slng = _arr(sites_lat), _arr(sites_lng)
    all_lat = np.concatenate([plat, slat, [s.lat for s in suggestions]])
    all_lng = np.concatenate([plng, slng, [s.lng for s in suggestions]])
    if not len(all_lat):
        all_lat = all_lng = np.zeros(1)
    lat0, lat1 = float(all_lat.min()), float(all_lat.max())
    lng0, lng1 = float(all_lng.min()), float(all_lng.max())
    span_lat = max(lat1 - lat0, 1e-6)
    span_lng = max(lng1 - lng0, 1e-6)

    def cells(mask):
        if not mask.any():
            return []
        i = np.minimum(((plat[mask] - lat0) / span_lat * bins).astype(np.int64), bins - 1)
        j = np.minimum(((plng[mask] - lng0) / span_lng * bins).astype(np.int64), bins - 1)
        cell = i * bins + j
        w = np.bincount(cell, weights=result.population[mask], minlength=bins * bins)
        # population-weighted centre of each cell
        clat = np.bincount(cell, weights=plat[mask] * result.population[mask], minlength=bins**2)
        clng = np.bincount(cell, weights=plng[mask] * result.population[mask], minlength=bins**2)
        nz = np.flatnonzero(w > 0)
        return [
            [
                round(float(clng[c] / w[c]), 6),
                round(float(clat[c] / w[c]), 6),
                round(float(w[c]), 1),
            ]
            for c in nz
        ]

    covered = cells(result.reached)
    uncovered = cells(~result.reached)
    max_pop = max([c[2] for c in covered + uncovered] or [1.0])
    names = (
        list(site_names) if site_names is not None else [f"站点{i + 1}" for i in range(len(slat))]
    )
    summary = result.summary()
    if title is None:
        label = result.mode.label or result.mode.name
        title = f"{int(result.minutes_limit)} 分钟{label}服务圈：覆盖人口 {summary['ratio']:.1%}"
    mid = np.radians((lat0 + lat1) / 2)
    option = {
        "title": {"text": title, "left": "center"},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0, "data": ["可达", "不可达", "现有站点", "建议新址"]},
        "grid": {"left": 60, "right": 30, "top": 50, "bottom": 60},
        "xAxis": {
            "type": "value",
            "name": "经度",
            "min": lng0,
            "max": lng1,
            "scale": True,
            "splitLine": {"show": False},
        },
        "yAxis": {
            "type": "value",
            "name": "纬度",
            "min": lat0,
            "max": lat1,
            "scale": True,
            "splitLine": {"show": False},
        },
        "visualMap": {
            "show": False,
            "type": "continuous",
            "dimension": 2,
            "seriesIndex": [0, 1],
            "min": 0,
            "max": max_pop,
            "inRange": {"symbolSize": [3, 16]},
        },
        "series": [
            {
                "name": "可达",
                "type": "scatter",
                "data": covered,
                "itemStyle": {"color": "#52a447", "opacity": 0.6},
                "large": True,
            },
            {
                "name": "不可达",
                "type": "scatter",
                "data": uncovered,
                "itemStyle": {"color": "#d64a3b", "opacity": 0.6},
                "large": True,
            },
            {
                "name": "现有站点",
                "type": "scatter",
                "symbol": "pin",
                "symbolSize": 18,
                "itemStyle": {"color": "#2f6fb3"},
                "data": [
                    [round(float(x), 6), round(float(y), 6), n]
                    for x, y, n in zip(slng, slat, names, strict=True)
                ],
            },
            {
                "name": "建议新址",
                "type": "effectScatter",
                "symbol": "pin",
                "symbolSize": 24,
                "itemStyle": {"color": "#f08c00"},
                "label": {"show": True, "formatter": "{@[2]}", "position": "inside"},
                "data": [[s.lng, s.lat, s.rank, round(s.added_population, 1)] for s in suggestions],
            },
        ],
    }
    summary["aspect"] = float(span_lng * np.cos(mid) / span_lat)
    summary["suggestions"] = [
        {
            "rank": s.rank,
            "lat": s.lat,
            "lng": s.lng,
            "added_population": s.added_population,
            "ratio": s.ratio,
        }
        for s in suggestions
    ]
    return {"option": option, "summary": summary}
