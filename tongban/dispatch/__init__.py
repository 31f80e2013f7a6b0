"""Volunteer dispatch and service-circle coverage — a pure side module.

No Django, no database, no files but the ones it is asked to write: plain dataclasses in,
plain results out. numpy, scipy (cKDTree, sparse Dijkstra), OR-Tools (min-cost and max
flow) and openpyxl (rosters). The services layer maps registry rows to these dataclasses,
calls a function, and stores or renders what comes back.

Dispatch
--------
::

    from tongban.dispatch import Volunteer, Demand, plan, replan, rosters, write_rosters_xlsx

    vols = [Volunteer(id=17, lat=31.30, lng=120.62, skills={"queue", "data_entry"},
                      shifts={"2022-04-10 上午", "2022-04-10 下午"}, max_shifts=1, max_km=5)]
    dems = [Demand(site_id=3, lat=31.31, lng=120.63, shift="2022-04-10 上午",
                   role="data_entry", count=2)]
    p = plan(vols, dems)           # -> Plan
    p.assignments                  # (Assignment(volunteer_id, site_id, shift, role, metres), …)
    p.total_km, p.filled, p.missing
    p.unfilled                     # (Unfilled(demand, missing, reason, candidates), …)
    u.reason, u.text               # "out_of_range", "具备该技能的志愿者都不在其最远出行距离之内"
    p.unfilled_by_reason()         # {"no_skill": 0, "out_of_range": 1, "not_available": 0, …}

- ``plan(volunteers, demands, *, k=12, per_demand=3)``: fills as many slots as any plan
  can (proven: ``p.stats["certified"]``), and among those minimises the total straight-line
  travel (great-circle metres from home). Rules: a volunteer serves a role only with that
  skill, only in shifts they are available, at most one place per shift, at most
  ``max_shifts`` shifts, never beyond ``max_km``. ``k``/``per_demand`` trade travel for
  time (the candidate arcs kept, see ``solver``); fill never depends on them.
- Unfilled reasons, most fundamental first (``model.REASONS``, Chinese text in
  ``model.REASON_TEXT``): ``no_skill`` (nobody has the skill), ``out_of_range`` (some have
  it, none within their range), ``not_available`` (in range, none available that shift),
  ``capacity`` (``candidates`` suitable volunteers exist but every one is needed elsewhere
  or at their shift limit — and no re-arrangement could free one).
- ``replan(previous_plan, volunteers, demands, dropped_ids=(), *, allow_moves=True)`` ->
  ``Replan(plan, removed, added)``: keeps every previous assignment that is still valid,
  fills the freed slots from what is left; moves kept volunteers only when that fills
  more (then as few as possible). ``changed`` = len(removed) + len(added);
  ``notices(dropped_ids)`` = whom to tell what (volunteer id → {"added", "removed"}).
- ``greedy_plan(...)``: nearest-first baseline with the same rules (benchmarks, and to
  show a coordinator what optimising saves). ``check_plan(plan, volunteers, demands)``:
  list of rule violations (empty when valid), e.g. for plans edited by hand.
- ``rosters(plan, shift_order=None)`` -> ``{"by_site": {site: {shift: {role:
  [Assignment…]}}}, "by_volunteer": {volunteer: [Assignment…]}, "unfilled": [dict…]}``
  for the printable page and the notifications; ``by_site`` / ``by_volunteer`` alone too.
- ``write_rosters_xlsx(plan, path_or_binary_file, names={id: 姓名}, *, site_names=…,
  shift_labels=…, role_labels=…, phones=…, shift_order=…)``: sheets 按站点 (a folding
  block per site, shortfalls with reasons), 按志愿者, 缺口, 汇总; Chinese headers, A4.

Ids, shifts and roles are any hashable values (database keys, "2022-04-10 上午",
"data_entry") and come back unchanged; demand keys (site_id, shift, role) must be unique.
Scale (bench/dispatch.py): 100 k volunteers × 5 k sites × 3 shifts × 2 roles.

Shifts written as 日期 时段 (``2022-04-10 上午``) map onto the volunteer registry's
availability words with ``available_shifts(availability, shifts)`` (see ``shifts``);
``demandfile.read_demand_file`` reads a demand xlsx/csv with row/column problems.
The solver's internals: ``problem`` (arrays, KD-trees, candidate arcs), ``flow`` (OR-Tools
flows and the certifying search), ``solver`` (``plan``), ``baseline`` (greedy, checker).

Coverage (service circles)
--------------------------
::

    from tongban.dispatch import coverage, suggest_sites, map_data, WALK, EBIKE, RoadGraph

    c = coverage(pts_lat, pts_lng, sites_lat, sites_lng, population, minutes=15, mode=WALK)
    c.reached, c.minutes, c.nearest, c.ratio, c.covered_population, c.site_population
    s = suggest_sites(cand_lat, cand_lng, pts_lat, pts_lng, population, k=5,
                      sites_lat=sites_lat, sites_lng=sites_lng, minutes=15, mode=EBIKE)
    page = map_data(pts_lat, pts_lng, c, sites_lat, sites_lng, suggestions=s)
    page["option"]   # ECharts option: scatter on lng/lat value axes, no tiles (offline)
    g = RoadGraph.from_osm("city.osm", mode="walk")   # then coverage(..., graph=g)

- Modes: ``WALK`` 5 km/h, ``EBIKE`` 15 km/h, detour 1.3 (``mode.with_detour(1.2)``).
  Straight line: reached when distance × detour / speed ≤ minutes. Road graph: snap to
  the nearest road node (leg counted straight), then the shortest way along the roads.
- ``grid_points(lat_min, lng_min, lat_max, lng_max, cell_km)`` makes grid cells (give
  them populations) when there are no residential points.
- ``RoadGraph.from_osm`` reads OSM **XML** (.osm/.osm.gz/.osm.bz2), not PBF: see ``osm``.
Scale (bench/coverage.py): 1 M points × 5 k sites.
"""

from tongban.dispatch.coverage import (
    EBIKE,
    MODES,
    WALK,
    Coverage,
    Suggestion,
    TravelMode,
    coverage,
    grid_points,
    map_data,
    suggest_sites,
)
from tongban.dispatch.model import (
    CAPACITY,
    NO_SKILL,
    NOT_AVAILABLE,
    OUT_OF_RANGE,
    REASON_TEXT,
    REASONS,
    Assignment,
    Demand,
    Plan,
    Replan,
    Unfilled,
    Volunteer,
)
from tongban.dispatch.osm import RoadGraph
from tongban.dispatch.replan import replan
from tongban.dispatch.rosters import by_site, by_volunteer, rosters, write_rosters_xlsx
from tongban.dispatch.shifts import ShiftError, available_shifts, normalise_shift, parse_shift
from tongban.dispatch.solver import SolverError, check_plan, greedy_plan, plan

__all__ = [
    "CAPACITY",
    "EBIKE",
    "MODES",
    "NOT_AVAILABLE",
    "NO_SKILL",
    "OUT_OF_RANGE",
    "REASONS",
    "REASON_TEXT",
    "WALK",
    "Assignment",
    "Coverage",
    "Demand",
    "Plan",
    "Replan",
    "RoadGraph",
    "ShiftError",
    "SolverError",
    "Suggestion",
    "TravelMode",
    "Unfilled",
    "Volunteer",
    "available_shifts",
    "by_site",
    "by_volunteer",
    "check_plan",
    "coverage",
    "greedy_plan",
    "grid_points",
    "map_data",
    "normalise_shift",
    "parse_shift",
    "plan",
    "replan",
    "rosters",
    "suggest_sites",
    "write_rosters_xlsx",
]
