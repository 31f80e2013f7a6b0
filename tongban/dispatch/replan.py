"""Re-planning after changes with as few changed assignments as possible.

``replan(previous, volunteers, demands, dropped_ids)``:

1. every previous assignment that is still valid — its volunteer is still there and not
   dropped, still has the skill and the shift, the site is still within range, the demand
   still exists, the limits still hold (when a count or a shift limit went down, the
   nearest are kept) — is **kept**;
2. the slots left open are planned alone, with what the volunteers have left (shifts not
   yet taken, shift limit minus kept shifts): no kept assignment moves. When that fills
   every open slot, the changes are exactly the freed slots: nothing fewer is possible;
3. otherwise (``allow_moves``), the whole problem is solved again as a min-cost flow where
   every arc that is not a kept assignment costs a penalty larger than any travel
   saving: the plan fills as many slots as any plan can and, among those, keeps the most
   assignments, then travels least. It is used only when it fills more than step 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from tongban.dispatch import geo
from tongban.dispatch.model import Demand, Plan, Replan, Volunteer
from tongban.dispatch.solver import (
    DEFAULT_K,
    DEFAULT_PER_DEMAND,
    Problem,
    plan,
    reasons,
    solve,
    to_assignments,
)


def replan(
    previous: Plan,
    volunteers: Sequence[Volunteer],
    demands: Sequence[Demand],
    dropped_ids: Iterable = (),
    *,
    allow_moves: bool = True,
    k: int = DEFAULT_K,
    per_demand: int = DEFAULT_PER_DEMAND,
) -> Replan:
    """A new plan close to ``previous`` for the current ``volunteers`` (those in
    ``dropped_ids`` are left out) and ``demands``. See the module docstring."""
    dropped = set(dropped_ids)
    vols = [v for v in volunteers if v.id not in dropped]
    p = Problem(vols, demands)
    vol_at = {v.id: i for i, v in enumerate(vols)}
    dem_at = {dm.key: j for j, dm in enumerate(p.demands)}
    vs_at = {(int(i), int(t)): n for n, (i, t) in enumerate(zip(p.vs_vol, p.vs_shift, strict=True))}

    # 1. keep what is still valid (nearest first when a limit went down)
    cand = []
    for a in previous.assignments:
        i, j = vol_at.get(a.volunteer_id), dem_at.get(a.demand_key)
        if i is None or j is None:
            continue
        v = vols[i]
        n = vs_at.get((i, p.shift_index[a.shift]))
        if n is None or a.role not in v.skills:
            continue
        cand.append((n, j))
    kept_vs = np.asarray([c[0] for c in cand], dtype=np.int64)
    kept_d = np.asarray([c[1] for c in cand], dtype=np.int64)
    kept_km = p.vs_km(kept_vs, kept_d) if len(cand) else np.zeros(0)
    ok = kept_km <= p.vmax_km[p.vs_vol[kept_vs]] if len(cand) else np.zeros(0, bool)
    kept_vs, kept_d, kept_km = kept_vs[ok], kept_d[ok], kept_km[ok]
    order = np.argsort(kept_km, kind="stable")
    used_vol = np.zeros(p.nv, np.int64)
    used_d = np.zeros(p.nd, np.int64)
    used_vs = np.zeros(p.nvs, bool)
    keep = []
    for x in order.tolist():
        n, j = int(kept_vs[x]), int(kept_d[x])
        i = int(p.vs_vol[n])
        if used_vs[n] or used_vol[i] >= p.vmax_shifts[i] or used_d[j] >= p.dcount[j]:
            continue
        used_vs[n] = True
        used_vol[i] += 1
        used_d[j] += 1
        keep.append(x)
    keep = np.asarray(sorted(keep), dtype=np.int64)
    kept_vs, kept_d, kept_km = kept_vs[keep], kept_d[keep], kept_km[keep]

    # 2. the open slots alone, with what is left
    taken_shifts: dict[int, set] = {}
    for n in kept_vs.tolist():
        taken_shifts.setdefault(int(p.vs_vol[n]), set()).add(p.shift_of_vs(n))
    rest_vols = [
        replace(v, shifts=v.shifts - taken_shifts[i], max_shifts=v.max_shifts - int(used_vol[i]))
        if i in taken_shifts
        else v
        for i, v in enumerate(vols)
    ]
    rest_dems = [replace(dm, count=int(dm.count - used_d[j])) for j, dm in enumerate(p.demands)]
    rest_dems = [dm for dm in rest_dems if dm.count > 0]
    rest = plan(rest_vols, rest_dems, k=k, per_demand=per_demand)
    kept_assign = to_assignments(p, kept_vs, kept_d, kept_km)
    assignments = kept_assign + list(rest.assignments)
    stats = {
        "kept": len(kept_assign),
        "stage": 2,
        "open_slots": int(sum(d.count for d in rest_dems)),
    }
    stats.update({f"open_{key}": val for key, val in rest.stats.items() if key == "seconds"})

    # 3. moves, only when they fill more
    if rest.unfilled and allow_moves:
        filled_now = len(assignments)
        keys = np.sort(kept_vs * p.nd + kept_d)
        vs, d, km = p.candidates(k, per_demand)
        all_keys, first = _merge(vs * p.nd + d, keys)
        all_km = np.concatenate([km, kept_km[np.argsort(kept_vs * p.nd + kept_d)]])[first]
        vs, d = all_keys // p.nd, all_keys % p.nd
        bonus = int(geo.metres(p.vmax_km.max() if p.nv else 0)) * int(p.dcount.sum()) + 1
        flow, vs, d, km, st = solve(p, vs, d, all_km, keep_keys=keys, keep_bonus=bonus)
        if int(flow.filled.sum()) > filled_now:
            use = flow.arc_flow > 0
            assignments = to_assignments(p, vs[use], d[use], km[use])
            stats["stage"] = 3
            stats["kept"] = int(np.isin(vs[use] * p.nd + d[use], keys).sum())
            stats.update({f"moves_{key}": val for key, val in st.items()})

    filled = np.zeros(p.nd, np.int64)
    for a in assignments:
        filled[dem_at[a.demand_key]] += 1
    new_plan = Plan(tuple(assignments), tuple(reasons(p, filled)), stats)
    old_keys = {a.key for a in previous.assignments}
    new_keys = {a.key for a in assignments}
    removed = tuple(a for a in previous.assignments if a.key not in new_keys)
    added = tuple(a for a in assignments if a.key not in old_keys)
    return Replan(new_plan, removed, added)


def _merge(a: np.ndarray, b: np.ndarray):
    """Sorted union of two key arrays and, for each, its first index in a ++ b."""
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="stable")
    s = both[order]
    head = np.concatenate([[True], s[1:] != s[:-1]]) if len(s) else np.zeros(0, bool)
    return s[head], order[head]
