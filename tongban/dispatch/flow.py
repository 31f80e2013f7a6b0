"""The flows of the solver: OR-Tools max flow and min-cost flow on candidate arcs
(:class:`_Flow`), and the augmenting-path search over the full network that proves the
filling maximal (:class:`_Search`). See ``solver`` for how they fit together."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow
from scipy.spatial import cKDTree

from tongban.dispatch import geo
from tongban.dispatch.problem import _EMPTY, Problem, _ranges, _uniq, _uniq_first


class SolverError(RuntimeError):
    """OR-Tools did not return an optimal flow (should not happen on valid input)."""


class _Flow:
    """One solved flow on the candidate arcs: which arcs carry flow, and how many slots each
    demand gets. ``cost=None`` solves a plain maximum flow (fast: the first fill);
    otherwise a min-cost maximum flow. Only volunteers and volunteer×shift nodes with at
    least one arc become nodes: push-relabel time grows with the node count."""

    def __init__(self, p: Problem, vs, d, cost=None, amount: int | None = None):
        nd, na = p.nd, len(vs)
        act_vs = _uniq(vs)
        owner = p.vs_vol[act_vs]
        act_vol, first = _uniq_first(owner)  # owner is sorted: vs nodes go volunteer by volunteer
        n_vs = np.diff(np.append(first, len(owner)))
        # a volunteer needs a node of its own only when its shift limit binds
        binding = p.vmax_shifts[act_vol] < n_vs
        vol = act_vol[binding]
        nv, nvs = len(vol), len(act_vs)
        src, sink = 0, 1
        vol0, vs0, d0 = 2, 2 + nv, 2 + nv + nvs
        vs_node = vs0 + np.searchsorted(act_vs, vs)
        pos = np.searchsorted(vol, owner)
        has_node = (
            (pos < nv) & (vol[np.minimum(pos, max(nv - 1, 0))] == owner)
            if nv
            else (np.zeros(nvs, bool))
        )
        vs_tail = np.where(has_node, vol0 + pos, src)
        tails = np.concatenate([np.full(nv, src), vs_tail, vs_node, d0 + np.arange(nd)]).astype(
            np.int32
        )
        heads = np.concatenate(
            [vol0 + np.arange(nv), vs0 + np.arange(nvs), d0 + d, np.full(nd, sink)]
        ).astype(np.int32)
        caps = np.concatenate(
            [p.vmax_shifts[vol], np.ones(nvs, np.int64), np.ones(na, np.int64), p.dcount]
        ).astype(np.int64)
        total = int(p.dcount.sum())
        self.arcs = len(tails)
        self.nodes = d0 + nd
        self.cost = 0
        if total == 0 or na == 0:
            self.arc_flow = np.zeros(na, np.int64)
            self.filled = np.zeros(nd, np.int64)
            return
        first = nv + nvs
        if cost is None:
            smf = max_flow.SimpleMaxFlow()
            smf.add_arcs_with_capacity(tails, heads, caps)
            status = smf.solve(src, sink)
            if status != smf.OPTIMAL:
                raise SolverError(f"max flow ended with status {status}")
            flows = smf.flows(np.arange(first, self.arcs, dtype=np.int32))
        else:
            costs = np.concatenate(
                [np.zeros(first, np.int64), np.asarray(cost, np.int64), np.zeros(nd, np.int64)]
            )
            smcf = min_cost_flow.SimpleMinCostFlow()
            smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
            if amount is None:  # as many as possible, then cheapest
                smcf.set_nodes_supplies(np.array([src, sink]), np.array([total, -total]))
                status = smcf.solve_max_flow_with_min_cost()
            else:  # exactly ``amount`` slots, cheapest (comparisons at equal filling)
                smcf.set_nodes_supplies(np.array([src, sink]), np.array([amount, -amount]))
                status = smcf.solve()
            if status != smcf.OPTIMAL:
                raise SolverError(f"min-cost flow ended with status {status}")
            flows = smcf.flows(np.arange(first, self.arcs))
            self.cost = int(smcf.optimal_cost())
        flows = np.asarray(flows, dtype=np.int64)
        self.arc_flow = flows[:na]
        self.filled = flows[na:]


class _Search:
    """Augmenting paths over the *full* network, found without materialising it.

    State: ``assigned[vs]`` = the demand a volunteer×shift node serves (−1: free); from it
    the volunteers' used shifts and the demands' filled slots. A phase is a breadth-first
    search of the residual network backwards from the unfilled slots. Nodes that can reach
    the sink: an unfilled demand (a root); a volunteer×shift with a feasible arc to a
    reached demand that it does not use (it may move there); the volunteer of a reached
    *free* volunteer×shift (it may take that shift); the demand a reached *busy*
    volunteer×shift serves (it loses that volunteer, who moves); the busy volunteer×shift
    nodes of a reached volunteer (who may give that shift up for another). Reaching a
    volunteer with a spare shift closes an augmenting path: the plan can fill one slot
    more.

    Feasible arcs are looked up in KD-trees (:func:`_reach`): each newly reached node keeps
    the one arc it was reached by, so a phase builds a BFS tree. Node-disjoint tree paths
    are then augmented at once (disjoint paths touch disjoint state, so each stays valid).
    A phase that reaches no volunteer with a spare shift proves, by max-flow/min-cut, that
    no plan over all feasible arcs fills more: ``certified``.
    """

    def __init__(self, p: Problem, assigned: np.ndarray):
        self.p = p
        self.assigned = assigned
        self.vol_used = np.bincount(p.vs_vol[assigned >= 0], minlength=p.nv)
        self.filled = np.bincount(assigned[assigned >= 0], minlength=p.nd)
        self.new_arcs: dict[int, float] = {}  # vs·nd+d → km of arcs the paths brought in

    def phase(self) -> int:
        """One BFS and its augmentations; returns the number of slots filled (0: maximal)."""
        p, assigned = self.p, self.assigned
        nd, nvs = p.nd, p.nvs
        busy = assigned >= 0
        slack = self.vol_used < p.vmax_shifts
        rem = p.dcount - self.filled
        seen_d = np.zeros(nd, bool)
        seen_vs = np.zeros(nvs, bool)
        seen_v = np.zeros(p.nv, bool)
        vs_to_d = np.full(nvs, -1, np.int64)  # next hop of a vs: a demand (forward arc) …
        vs_to_v = np.full(nvs, -1, np.int64)  # … or its volunteer (gives the shift up)
        vs_km = np.zeros(nvs)
        d_to_vs = np.full(nd, -1, np.int64)  # next hop of a demand: the vs it releases
        v_to_vs = np.full(p.nv, -1, np.int64)  # next hop of a volunteer: a free vs of theirs
        frontier = np.flatnonzero(rem > 0)
        seen_d[frontier] = True
        short = int(rem.sum())
        starts: list[np.ndarray] = []
        found = 0
        while len(frontier) and found < short:
            new_vs, new_d, new_km = _reach(p, frontier, seen_vs, assigned)
            seen_vs[new_vs] = True
            vs_to_d[new_vs] = new_d
            vs_km[new_vs] = new_km
            free = new_vs[~busy[new_vs]]
            vols, first = _uniq_first(p.vs_vol[free])
            keep = ~seen_v[vols]
            vols, free = vols[keep], free[first[keep]]
            seen_v[vols] = True
            v_to_vs[vols] = free
            ok = vols[slack[vols]]
            starts.append(ok)
            found += len(ok)
            vs2 = p.vs_order[_ranges(p.vs_start[vols], p.vs_start[vols + 1])]
            vs2 = vs2[busy[vs2] & ~seen_vs[vs2]]
            seen_vs[vs2] = True
            vs_to_v[vs2] = p.vs_vol[vs2]
            via = np.concatenate([new_vs[busy[new_vs]], vs2])
            nxt, first = _uniq_first(assigned[via])
            keep = ~seen_d[nxt]
            nxt = nxt[keep]
            seen_d[nxt] = True
            d_to_vs[nxt] = via[first[keep]]
            frontier = nxt
        if not found:
            return 0
        # augment node-disjoint tree paths, shortest first
        used_vs = np.zeros(nvs, bool)
        used_d = np.zeros(nd, bool)
        gained = 0
        for v in np.concatenate(starts).tolist():
            path_vs: list[int] = []
            ok = True
            x = int(v_to_vs[v])
            while True:
                if used_vs[x]:
                    ok = False
                    break
                path_vs.append(x)
                dd = int(vs_to_d[x])
                if dd >= 0:  # x moves to demand dd
                    if d_to_vs[dd] < 0:  # a root: an unfilled demand
                        ok = rem[dd] > 0
                        break
                    if used_d[dd]:
                        ok = False
                        break
                    used_d[dd] = True
                    x = int(d_to_vs[dd])
                else:  # x gives its shift up; its volunteer takes another free one
                    x = int(v_to_vs[vs_to_v[x]])
            if not ok:
                continue
            for y in path_vs:
                used_vs[y] = True
                dd = int(vs_to_d[y])
                assigned[y] = dd
                if dd >= 0:
                    self.new_arcs[y * nd + dd] = float(vs_km[y])
            rem[dd] -= 1
            self.filled[dd] += 1
            self.vol_used[v] += 1
            gained += 1
        return gained


def _reach(p: Problem, frontier: np.ndarray, seen_vs: np.ndarray, assigned_d: np.ndarray):
    """Volunteer×shift nodes not yet seen with an unused feasible arc into ``frontier``,
    each with one such arc: (vs, d, km)."""
    out_vs, out_d, out_km = [], [], []
    by_group: dict = {}
    for j in frontier.tolist():
        by_group.setdefault(p.d_group[j], []).append(j)
    for g, ds in by_group.items():
        cand = p.groups[g][1]
        cand = cand[~seen_vs[cand]]
        if not len(cand):
            continue
        ds = np.asarray(ds, dtype=np.int64)
        vol = p.vs_vol[cand]
        radius = float(geo.chord_km(p.vmax_km[vol].max()))
        if len(ds) * 64 < len(cand):
            # small layer: everything around its demands, from the group's tree
            all_vs = p.groups[g][1]
            hits = p.vs_tree(g).query_ball_point(p.dxyz[ds], r=radius, workers=-1)
            lens = np.fromiter((len(h) for h in hits), np.int64, len(hits))
            if not lens.sum():
                continue
            a = all_vs[np.fromiter((i for h in hits for i in h), np.int64, int(lens.sum()))]
            b = np.repeat(ds, lens)
            keep = ~seen_vs[a] & (assigned_d[a] != b)
            a, b = a[keep], b[keep]
        else:
            # large layer: each unseen node asks for its nearest demands of the layer
            kq = min(2, len(ds))
            dist, j = cKDTree(p.dxyz[ds]).query(
                p.vxyz[vol], k=kq, distance_upper_bound=radius, workers=-1
            )
            dist, j = dist.reshape(len(cand), kq), j.reshape(len(cand), kq)
            jj = np.minimum(j, len(ds) - 1)
            ok = np.isfinite(dist) & (ds[jj] != assigned_d[cand][:, None])
            first = np.argmax(ok, axis=1)
            has = ok[np.arange(len(cand)), first]
            a = cand[has]
            b = ds[jj[np.flatnonzero(has), first[has]]]
        km = p.vs_km(a, b)
        inr = km <= p.vmax_km[p.vs_vol[a]]
        a, b, km = a[inr], b[inr], km[inr]
        a, first = _uniq_first(a)
        out_vs.append(a)
        out_d.append(b[first])
        out_km.append(km[first])
    if not out_vs:
        return _EMPTY, _EMPTY, np.zeros(0)
    a, b, km = np.concatenate(out_vs), np.concatenate(out_d), np.concatenate(out_km)
    a, first = _uniq_first(a)  # a node may be near demands of two groups
    return a, b[first], km[first]
