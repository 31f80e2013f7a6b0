"""Volunteer dispatch as a minimum-cost maximum flow (OR-Tools).

The network::

    source ─(max_shifts)─▶ volunteer ─(1)─▶ volunteer×shift ─(1, metres)─▶ demand ─(count)─▶ sink

- a volunteer×shift node exists for every shift the volunteer is available in and some
  demand asks for: capacity 1 means one place per shift (the volunteer node is left out
  when the shift limit cannot bind);
- an arc volunteer×shift → demand (site, shift, role) exists only when the volunteer has
  the role as a skill and the site is within the volunteer's ``max_km`` (haversine); its
  cost is the distance in whole metres.

A maximum flow fills the most slots; ``SimpleMinCostFlow.solve_max_flow_with_min_cost``
then finds, among the maximal fillings, the one with the least total travel. The network
is totally unimodular, so the optimum is integral: no MIP (nor CP-SAT) is needed.

Scale: the full network for 100 k volunteers and 15 k site-shifts has ~10⁸ arcs, so the
flow runs on *candidate* arcs: per volunteer×shift its ``k`` nearest feasible demands of
each role it has, plus per demand its ``per_demand × count`` nearest feasible volunteers
(cKDTree on 3-D points of the sphere). Pruning may cost travel (the benchmark measures
how much against the full network on the small instance) but never filling:

1. a plain max flow on the candidates (``SimpleMaxFlow``, fast);
2. :class:`_Search` looks for augmenting paths in the *full* residual network, looking
   feasible arcs up in KD-trees instead of materialising them, and augments along them,
   until one search finds none — by max-flow/min-cut no plan over all feasible arcs fills
   more (``Plan.stats["certified"]``);
3. the min-cost max flow on the candidates plus the arcs those paths brought in (so the
   proven filling is among its choices).

Hence a slot reported unfilled for ``capacity`` truly cannot be filled by any plan.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from tongban.dispatch import geo
from tongban.dispatch.flow import SolverError, _Flow, _Search
from tongban.dispatch.model import (
    CAPACITY,
    NO_SKILL,
    NOT_AVAILABLE,
    OUT_OF_RANGE,
    Assignment,
    Demand,
    Plan,
    Unfilled,
    Volunteer,
)
from tongban.dispatch.problem import Problem, _uniq_first

DEFAULT_K = 12
DEFAULT_PER_DEMAND = 3
DEFAULT_MAX_PHASES = 10_000


def solve(
    p: Problem,
    vs: np.ndarray,
    d: np.ndarray,
    km: np.ndarray,
    *,
    keep_keys: np.ndarray | None = None,
    keep_bonus: int = 0,
    max_phases: int = DEFAULT_MAX_PHASES,
) -> tuple[_Flow, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Fill as much as any plan could, then travel least.

    1. plain maximum flow on the candidate arcs (OR-Tools ``SimpleMaxFlow``, fast);
    2. :class:`_Search` phases over the full network until none finds an augmenting path
       (the filling is then proven maximal), adding the arcs its paths use;
    3. min-cost maximum flow (``SimpleMinCostFlow.solve_max_flow_with_min_cost``) on the
       candidates plus those arcs: it fills as many slots (the filling of step 2 is
       among its choices) and, among such plans, minimises total metres.

    ``keep_keys`` (sorted vs·nd+d) are ``keep_bonus`` metres cheaper than other arcs (how
    the re-planner keeps assignments)."""
    stats = {"candidate_arcs": len(vs), "phases": 0, "added_arcs": 0, "certified": False}
    t = time.perf_counter()
    flow = _Flow(p, vs, d)
    stats["maxflow_seconds"] = time.perf_counter() - t
    stats["candidate_fill"] = int(flow.filled.sum())
    t = time.perf_counter()
    assigned = np.full(p.nvs, -1, np.int64)
    used = flow.arc_flow > 0
    assigned[vs[used]] = d[used]
    search = _Search(p, assigned)
    while stats["phases"] < max_phases:
        stats["phases"] += 1
        if not search.phase():
            stats["certified"] = True
            break
    stats["search_seconds"] = time.perf_counter() - t
    if search.new_arcs:
        add = np.fromiter(search.new_arcs.keys(), np.int64, len(search.new_arcs))
        add_km = np.fromiter(search.new_arcs.values(), np.float64, len(search.new_arcs))
        keys, first = _uniq_first(np.concatenate([vs * p.nd + d, add]))
        km = np.concatenate([km, add_km])[first]
        stats["added_arcs"] = len(keys) - len(vs)
        vs, d = keys // p.nd, keys % p.nd
    cost = geo.metres(km)
    if keep_keys is not None and len(keep_keys):
        key = vs * p.nd + d
        pos = np.minimum(np.searchsorted(keep_keys, key), len(keep_keys) - 1)
        cost = cost + keep_bonus * (keep_keys[pos] != key)
    t = time.perf_counter()
    flow = _Flow(p, vs, d, cost)
    stats["flow_seconds"] = time.perf_counter() - t
    if int(flow.filled.sum()) < int(search.filled.sum()):  # cannot happen: same arcs
        raise SolverError("min-cost flow filled less than the search")
    stats.update(arcs=flow.arcs, nodes=flow.nodes)
    return flow, vs, d, km, stats


# ------------------------------------------------------------------------------------------
# results


def reasons(p: Problem, filled: np.ndarray) -> list[Unfilled]:
    """Why each short demand is short (see ``model.REASONS``)."""
    short = np.flatnonzero(filled < p.dcount)
    if not len(short):
        return []
    pvs, pd, _ = p.feasible_pairs(short)
    suitable = np.bincount(pd, minlength=p.nd)
    no_one = short[suitable[short] == 0]
    in_range = dict(zip(no_one.tolist(), p.within_range_any_shift(no_one).tolist(), strict=True))
    out = []
    for j in short.tolist():
        dm = p.demands[j]
        n = int(suitable[j])
        if n:
            reason = CAPACITY
        elif not p.role_has[p.d_role[j]].any():
            reason = NO_SKILL
        elif in_range[j]:
            reason = NOT_AVAILABLE
        else:
            reason = OUT_OF_RANGE
        out.append(Unfilled(dm, int(p.dcount[j] - filled[j]), reason, n))
    return out


def to_assignments(p: Problem, vs, d, km) -> list[Assignment]:
    order = np.lexsort((km, d))
    m = geo.metres(km)
    out = []
    for i in order.tolist():
        v = p.volunteers[p.vs_vol[vs[i]]]
        dm = p.demands[d[i]]
        out.append(Assignment(v.id, dm.site_id, dm.shift, dm.role, int(m[i])))
    return out


def plan(
    volunteers: Sequence[Volunteer],
    demands: Sequence[Demand],
    *,
    k: int = DEFAULT_K,
    per_demand: int = DEFAULT_PER_DEMAND,
    max_phases: int = DEFAULT_MAX_PHASES,
) -> Plan:
    """The plan that fills the most slots and, among those, travels least in total."""
    t0 = time.perf_counter()
    p = Problem(volunteers, demands)
    t_build = time.perf_counter() - t0
    vs, d, km = p.candidates(k, per_demand)
    t_cand = time.perf_counter() - t0 - t_build
    flow, vs, d, km, stats = solve(p, vs, d, km, max_phases=max_phases)
    used = flow.arc_flow > 0
    t = time.perf_counter()
    unfilled = reasons(p, flow.filled)
    stats.update(
        volunteers=p.nv,
        demands=p.nd,
        slots=int(p.dcount.sum()),
        build_seconds=t_build,
        candidate_seconds=t_cand,
        reason_seconds=time.perf_counter() - t,
    )
    assignments = to_assignments(p, vs[used], d[used], km[used])
    stats["seconds"] = time.perf_counter() - t0
    return Plan(tuple(assignments), tuple(unfilled), stats)


# The baseline and the checker live in ``baseline``; imported last (it imports this
# module) so that ``from tongban.dispatch.solver import greedy_plan, check_plan`` keeps working.
from tongban.dispatch.baseline import check_plan, greedy_plan  # noqa: E402

__all__ = [
    "DEFAULT_K",
    "DEFAULT_MAX_PHASES",
    "DEFAULT_PER_DEMAND",
    "Problem",
    "SolverError",
    "check_plan",
    "greedy_plan",
    "plan",
    "reasons",
    "solve",
    "to_assignments",
]
