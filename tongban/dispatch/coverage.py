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

from tongban.dispatch.coverage_map import map_data
from tongban.dispatch.reach import (
    EBIKE,
    MODES,
    WALK,
    Coverage,
    TravelMode,
    _arr,
    _population,
    coverage,
    grid_points,
)
from tongban.dispatch.siting import Suggestion, _reach_sets, suggest_sites

__all__ = [
    "EBIKE",
    "MODES",
    "WALK",
    "Coverage",
    "Suggestion",
    "TravelMode",
    "coverage",
    "grid_points",
    "map_data",
    "suggest_sites",
]
_REEXPORTED = (_arr, _population, _reach_sets)  # private helpers of the old single module
