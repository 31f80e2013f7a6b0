"""Where new sites help most: greedy maximum coverage over candidate places; see
``tongban.dispatch.coverage``."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from tongban.dispatch import geo
from tongban.dispatch.reach import WALK, TravelMode, _arr, _population, coverage


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
