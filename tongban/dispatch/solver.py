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
from collections.abc import Hashable, Sequence

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow
from scipy.spatial import cKDTree

from tongban.dispatch import geo
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

DEFAULT_K = 12
DEFAULT_PER_DEMAND = 3
DEFAULT_MAX_PHASES = 10_000

_EMPTY = np.zeros(0, dtype=np.int64)


class SolverError(RuntimeError):
    """OR-Tools did not return an optimal flow (should not happen on valid input)."""


class Problem:
    """Arrays and spatial indexes of one planning problem (internal, but reusable: the
    re-planner builds one and solves it twice)."""

    def __init__(self, volunteers: Sequence[Volunteer], demands: Sequence[Demand]):
        self.volunteers = list(volunteers)
        self.demands = list(demands)
        nv, nd = len(self.volunteers), len(self.demands)
        self.nv, self.nd = nv, nd

        ids: set = set()
        for v in self.volunteers:
            if v.id in ids:
                raise ValueError(f"volunteer id {v.id!r} appears twice")
            ids.add(v.id)
            if v.max_shifts < 0 or not v.max_km >= 0:
                raise ValueError(f"volunteer {v.id!r}: max_shifts and max_km must be ≥ 0")
        keys: set = set()
        for dm in self.demands:
            if dm.key in keys:
                raise ValueError(f"demand {dm.key!r} appears twice")
            keys.add(dm.key)
            if dm.count < 0:
                raise ValueError(f"demand {dm.key!r}: count must be ≥ 0")

        self.vlat = np.fromiter((v.lat for v in self.volunteers), np.float64, nv)
        self.vlng = np.fromiter((v.lng for v in self.volunteers), np.float64, nv)
        self.vmax_km = np.fromiter((v.max_km for v in self.volunteers), np.float64, nv)
        self.vmax_shifts = np.fromiter((v.max_shifts for v in self.volunteers), np.int64, nv)
        self.dlat = np.fromiter((d.lat for d in self.demands), np.float64, nd)
        self.dlng = np.fromiter((d.lng for d in self.demands), np.float64, nd)
        self.dcount = np.fromiter((d.count for d in self.demands), np.int64, nd)
        for name, arr in (("volunteer", self.vlat), ("volunteer", self.vlng)):
            if not np.isfinite(arr).all():
                raise ValueError(f"a {name} has no valid coordinates")
        if not (np.isfinite(self.dlat).all() and np.isfinite(self.dlng).all()):
            raise ValueError("a demand has no valid coordinates")

        self.shift_index: dict[Hashable, int] = {}
        self.role_index: dict[Hashable, int] = {}
        for dm in self.demands:
            self.shift_index.setdefault(dm.shift, len(self.shift_index))
            self.role_index.setdefault(dm.role, len(self.role_index))
        self.d_shift = np.fromiter((self.shift_index[d.shift] for d in self.demands), np.int64, nd)
        self.d_role = np.fromiter((self.role_index[d.role] for d in self.demands), np.int64, nd)
        nr = len(self.role_index)

        # who has which role (dense bool matrix: roles are few) and the volunteer×shift nodes
        self.role_has = np.zeros((nr, nv), dtype=bool)
        vs_vol: list[int] = []
        vs_shift: list[int] = []
        role_index, shift_index = self.role_index, self.shift_index
        for i, v in enumerate(self.volunteers):
            relevant = False
            for s in v.skills:
                r = role_index.get(s)
                if r is not None:
                    self.role_has[r, i] = True
                    relevant = True
            if relevant and v.max_shifts > 0:
                # sorted: set order varies with the hash seed, results must not
                for t in sorted(shift_index[s] for s in v.shifts if s in shift_index):
                    vs_vol.append(i)
                    vs_shift.append(t)
        self.vs_vol = np.asarray(vs_vol, dtype=np.int64)
        self.vs_shift = np.asarray(vs_shift, dtype=np.int64)
        self.nvs = len(self.vs_vol)

        self.vxyz = geo.to_xyz(self.vlat, self.vlng) if nv else np.zeros((0, 3))
        self.dxyz = geo.to_xyz(self.dlat, self.dlng) if nd else np.zeros((0, 3))

        # groups (shift, role): the demands and the volunteer×shift nodes that may serve them
        self.groups: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        gkey = self.d_shift * max(nr, 1) + self.d_role
        order = np.argsort(gkey, kind="stable")
        bounds = np.flatnonzero(np.diff(gkey[order])) + 1
        vs_by_shift = _split_by(self.vs_shift, len(self.shift_index))
        for part in np.split(order, bounds) if nd else []:
            t, r = int(self.d_shift[part[0]]), int(self.d_role[part[0]])
            cand = vs_by_shift[t]
            cand = cand[self.role_has[r, self.vs_vol[cand]]]
            self.groups[(t, r)] = (part, cand)
        self.d_group = {}
        for g, (part, _) in self.groups.items():
            for j in part:
                self.d_group[int(j)] = g

        # volunteer → its volunteer×shift nodes (CSR)
        self.vs_order = np.argsort(self.vs_vol, kind="stable")
        self.vs_start = np.searchsorted(self.vs_vol[self.vs_order], np.arange(nv + 1))
        self._trees: dict = {}
        self.shifts = list(self.shift_index)

    def shift_of_vs(self, n: int) -> Hashable:
        """The shift (caller's value) of volunteer×shift node ``n``."""
        return self.shifts[int(self.vs_shift[n])]

    # spatial indexes, built on first use ------------------------------------------------
    def d_tree(self, g) -> cKDTree:
        key = ("d", g)
        if key not in self._trees:
            self._trees[key] = cKDTree(self.dxyz[self.groups[g][0]])
        return self._trees[key]

    def vs_tree(self, g) -> cKDTree:
        key = ("vs", g)
        if key not in self._trees:
            self._trees[key] = cKDTree(self.vxyz[self.vs_vol[self.groups[g][1]]])
        return self._trees[key]

    def role_tree(self, r) -> tuple[cKDTree, np.ndarray]:
        key = ("role", r)
        if key not in self._trees:
            vols = np.flatnonzero(self.role_has[r])
            self._trees[key] = (cKDTree(self.vxyz[vols]), vols)
        return self._trees[key]

    def vs_km(self, vs: np.ndarray, d: np.ndarray) -> np.ndarray:
        vol = self.vs_vol[vs]
        return geo.distance_km(self.vlat[vol], self.vlng[vol], self.dlat[d], self.dlng[d])

    # candidate and feasible arcs ----------------------------------------------------------
    def candidates(self, k: int, per_demand: int):
        """Pruned arcs (vs, d, km): the ``per_demand × count`` nearest feasible volunteers of
        each demand, plus, per volunteer×shift and role, its ``k`` nearest feasible demands."""
        vs_parts, d_parts = [], []
        for g, (d_idx, vs_idx) in self.groups.items():
            if not len(vs_idx) or not len(d_idx):
                continue
            vol = self.vs_vol[vs_idx]
            radius = float(geo.chord_km(self.vmax_km[vol].max()))
            counts = self.dcount[d_idx]
            kd = min(len(vs_idx), int(per_demand * counts.max()))
            if kd > 0:
                dist, j = self.vs_tree(g).query(
                    self.dxyz[d_idx], k=kd, distance_upper_bound=radius, workers=-1
                )
                dist, j = dist.reshape(len(d_idx), kd), j.reshape(len(d_idx), kd)
                ok = np.isfinite(dist) & (np.arange(kd)[None, :] < per_demand * counts[:, None])
                row, col = np.nonzero(ok)
                vs_parts.append(vs_idx[j[row, col]])
                d_parts.append(d_idx[row])
            kk = min(k, len(d_idx))
            if kk > 0:
                dist, j = self.d_tree(g).query(
                    self.vxyz[vol], k=kk, distance_upper_bound=radius, workers=-1
                )
                dist, j = dist.reshape(len(vs_idx), kk), j.reshape(len(vs_idx), kk)
                row, col = np.nonzero(np.isfinite(dist))
                vs_parts.append(vs_idx[row])
                d_parts.append(d_idx[j[row, col]])
        if not vs_parts:
            return _EMPTY, _EMPTY, np.zeros(0)
        keys = _uniq(np.concatenate(vs_parts) * self.nd + np.concatenate(d_parts))
        return self._feasible(keys // self.nd, keys % self.nd)

    def _feasible(self, vs, d):
        km = self.vs_km(vs, d)
        ok = km <= self.vmax_km[self.vs_vol[vs]]
        return vs[ok], d[ok], km[ok]

    def feasible_pairs(self, demands: np.ndarray):
        """All feasible arcs (vs, d, km) into the given demands — the full network, looked up."""
        vs_parts, d_parts = [], []
        by_group: dict = {}
        for j in demands:
            by_group.setdefault(self.d_group[int(j)], []).append(int(j))
        for g, ds in by_group.items():
            vs_idx = self.groups[g][1]
            if not len(vs_idx):
                continue
            ds = np.asarray(ds, dtype=np.int64)
            radius = float(geo.chord_km(self.vmax_km[self.vs_vol[vs_idx]].max()))
            hits = self.vs_tree(g).query_ball_point(self.dxyz[ds], r=radius, workers=-1)
            lens = np.fromiter((len(h) for h in hits), np.int64, len(hits))
            if lens.sum() == 0:
                continue
            flat = np.fromiter((i for h in hits for i in h), np.int64, int(lens.sum()))
            vs_parts.append(vs_idx[flat])
            d_parts.append(np.repeat(ds, lens))
        if not vs_parts:
            return _EMPTY, _EMPTY, np.zeros(0)
        return self._feasible(np.concatenate(vs_parts), np.concatenate(d_parts))

    def pairs_to(self, demands: np.ndarray, usable: np.ndarray, depth, missing: np.ndarray):
        """Feasible arcs (vs, d, km) into ``demands`` from volunteer×shift nodes in the
        ``usable`` mask: each demand's ``depth × missing[d]`` nearest, or all (None)."""
        vs_parts, d_parts = [], []
        by_group: dict = {}
        for j in demands.tolist():
            by_group.setdefault(self.d_group[j], []).append(j)
        for g, ds in by_group.items():
            cand = self.groups[g][1]
            cand = cand[usable[cand]]
            if not len(cand):
                continue
            ds = np.asarray(ds, dtype=np.int64)
            vol = self.vs_vol[cand]
            tree = cKDTree(self.vxyz[vol])
            radius = float(geo.chord_km(self.vmax_km[vol].max()))
            if depth is None:
                hits = tree.query_ball_point(self.dxyz[ds], r=radius, workers=-1)
                lens = np.fromiter((len(h) for h in hits), np.int64, len(hits))
                flat = np.fromiter((i for h in hits for i in h), np.int64, int(lens.sum()))
                vs_parts.append(cand[flat])
                d_parts.append(np.repeat(ds, lens))
                continue
            want = depth * missing[ds]
            kq = int(min(len(cand), want.max()))
            dist, j = tree.query(self.dxyz[ds], k=kq, distance_upper_bound=radius, workers=-1)
            dist, j = dist.reshape(len(ds), kq), j.reshape(len(ds), kq)
            row, col = np.nonzero(np.isfinite(dist) & (np.arange(kq)[None, :] < want[:, None]))
            vs_parts.append(cand[j[row, col]])
            d_parts.append(ds[row])
        if not vs_parts:
            return _EMPTY, _EMPTY, np.zeros(0)
        return self._feasible(np.concatenate(vs_parts), np.concatenate(d_parts))

    def within_range_any_shift(self, demands: np.ndarray) -> np.ndarray:
        """Per demand: does any volunteer with the skill live within their own range?"""
        out = np.zeros(len(demands), dtype=bool)
        for i, j in enumerate(demands):
            r = int(self.d_role[j])
            if not self.role_has[r].any():
                continue
            tree, vols = self.role_tree(r)
            radius = float(geo.chord_km(self.vmax_km[vols].max()))
            hit = vols[np.asarray(tree.query_ball_point(self.dxyz[j], r=radius), dtype=np.int64)]
            km = geo.distance_km(self.vlat[hit], self.vlng[hit], self.dlat[j], self.dlng[j])
            out[i] = bool((km <= self.vmax_km[hit]).any())
        return out


def _uniq(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (numpy 2's hash-based ``np.unique`` is slow on big int arrays)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a


def _uniq_first(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and the index of each one's first occurrence."""
    order = np.argsort(a, kind="stable")
    b = a[order]
    head = np.concatenate([[True], b[1:] != b[:-1]]) if len(b) else np.zeros(0, bool)
    return b[head], order[head]


def _split_by(values: np.ndarray, n: int) -> list[np.ndarray]:
    order = np.argsort(values, kind="stable")
    starts = np.searchsorted(values[order], np.arange(n + 1))
    return [order[starts[i] : starts[i + 1]] for i in range(n)]


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` for all i, without a Python loop."""
    lens = hi - lo
    ends = np.cumsum(lens)
    return np.repeat(lo - ends + lens, lens) + np.arange(int(ends[-1]) if len(ends) else 0)


# ------------------------------------------------------------------------------------------
# the flow


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
    from collections import Counter

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
