"""Beside the optimiser: a nearest-first greedy baseline with the same rules, and a
checker that lists a plan's rule violations."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from tongban.dispatch import geo
from tongban.dispatch.model import Demand, Plan, Volunteer
from tongban.dispatch.problem import Problem
from tongban.dispatch.solver import DEFAULT_K, DEFAULT_PER_DEMAND, reasons, to_assignments


def greedy_plan(
    volunteers: Sequence[Volunteer],
    demands: Sequence[Demand],
    *,
    k: int = DEFAULT_K,
    per_demand: int = DEFAULT_PER_DEMAND,
) -> Plan:
    """Baseline: nearest first. All candidate (volunteer, demand) pairs in increasing
    distance, each taken while both sides have room; then, while some demand is short,
    its nearest volunteers still free (any distance within their range) the same way.
    Same rules as :func:`plan`, no optimiser: for comparison."""
    t0 = time.perf_counter()
    p = Problem(volunteers, demands)
    rem_d = p.dcount.tolist()
    rem_v = p.vmax_shifts.tolist()
    free_vs = [True] * p.nvs
    vs_vol = p.vs_vol.tolist()
    taken: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def take(avs, ad, akm) -> int:
        order = np.argsort(akm, kind="stable")
        got = []
        for i, a, b in zip(order.tolist(), avs[order].tolist(), ad[order].tolist(), strict=True):
            if rem_d[b] and free_vs[a] and rem_v[vs_vol[a]]:
                rem_d[b] -= 1
                free_vs[a] = False
                rem_v[vs_vol[a]] -= 1
                got.append(i)
        sel = np.asarray(got, dtype=np.int64)
        taken.append((avs[sel], ad[sel], akm[sel]))
        return len(got)

    take(*p.candidates(k, per_demand))
    for depth in (4, 16, 64, None):  # nearest free ones first; None: every free one in range
        while True:
            short = np.flatnonzero(np.asarray(rem_d) > 0)
            usable = np.asarray(free_vs, bool) & (np.asarray(rem_v)[p.vs_vol] > 0)
            pairs = p.pairs_to(short, usable, depth, np.asarray(rem_d))
            if not len(pairs[0]) or not take(*pairs):
                break
    allvs, alld, allkm = (np.concatenate([t[i] for t in taken]) for i in range(3))
    filled = p.dcount - np.asarray(rem_d, dtype=np.int64)
    unfilled = reasons(p, filled)
    assignments = to_assignments(p, allvs, alld, allkm)
    stats = {"seconds": time.perf_counter() - t0, "slots": int(p.dcount.sum())}
    return Plan(tuple(assignments), tuple(unfilled), stats)


def check_plan(
    plan_: Plan, volunteers: Sequence[Volunteer], demands: Sequence[Demand]
) -> list[str]:
    """Rule violations of a plan (empty when it is valid): unknown volunteer or demand,
    missing skill or shift, beyond the volunteer's range, wrong metres, two places in one
    shift, more than ``max_shifts``, more than ``count``, unfilled figures that don't add up.
    For tests, benchmarks and plans edited by hand."""
    vols = {v.id: v for v in volunteers}
    dems = {dm.key: dm for dm in demands}
    problems: list[str] = []
    known = []
    for a in plan_.assignments:
        v, dm = vols.get(a.volunteer_id), dems.get(a.demand_key)
        if v is None:
            problems.append(f"{a.key}: unknown volunteer")
        elif dm is None:
            problems.append(f"{a.key}: unknown demand")
        else:
            known.append((a, v, dm))
            if a.role not in v.skills:
                problems.append(f"{a.key}: volunteer lacks skill {a.role!r}")
            if a.shift not in v.shifts:
                problems.append(f"{a.key}: volunteer not available in shift {a.shift!r}")
    if known:
        km = geo.distance_km(
            [v.lat for _, v, _ in known],
            [v.lng for _, v, _ in known],
            [dm.lat for _, _, dm in known],
            [dm.lng for _, _, dm in known],
        )
        m = geo.metres(km)
        for (a, v, _), x, mx in zip(known, km.tolist(), m.tolist(), strict=True):
            if x > v.max_km:
                problems.append(f"{a.key}: {x:.3f} km is beyond max_km {v.max_km}")
            if a.metres != mx:
                problems.append(f"{a.key}: metres {a.metres} but the distance is {mx}")
    per_slot = Counter((a.volunteer_id, a.shift) for a in plan_.assignments)
    per_vol = Counter(a.volunteer_id for a in plan_.assignments)
    per_dem = Counter(a.demand_key for a in plan_.assignments)
    problems += [
        f"volunteer {k[0]!r}: {n} places in shift {k[1]!r}" for k, n in per_slot.items() if n > 1
    ]
    problems += [
        f"volunteer {k!r}: {n} shifts, max {vols[k].max_shifts}"
        for k, n in per_vol.items()
        if k in vols and n > vols[k].max_shifts
    ]
    missing = Counter()
    for u in plan_.unfilled:
        missing[u.demand.key] += u.missing
    for key, dm in dems.items():
        if per_dem[key] > dm.count:
            problems.append(f"demand {key!r}: {per_dem[key]} assigned, count {dm.count}")
        elif per_dem[key] + missing[key] != dm.count:
            problems.append(
                f"demand {key!r}: {per_dem[key]} assigned + {missing[key]} unfilled ≠ {dm.count}"
            )
    return problems
