"""Who reaches a site within T minutes: travel modes, the ``Coverage`` result and
``coverage`` itself (straight line × detour, or along a road graph); see
``tongban.dispatch.coverage``."""

from __future__ import annotations

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
