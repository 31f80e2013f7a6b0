"""The independent checks of bench/dispatch.py, outside its timing: the full network's max
flow (no plan can fill more), the least travel for greedy's fill, the full network's
min-cost flow, and the residual-network cut that proves a plan maximal at any size."""

from __future__ import annotations

import numpy as np

from tongban.dispatch import geo


def full_max_fill(volunteers, demands) -> tuple[int, int]:
    """Independent upper bound: max flow over every feasible arc. Returns (max slots, arcs)."""
    from ortools.graph.python import max_flow
    from scipy.spatial import cKDTree

    vid = {}
    vs_nodes = {}  # (vol index, shift) -> node
    n = 2 + len(volunteers)
    tails, heads, caps = [], [], []
    for i, v in enumerate(volunteers):
        vid[v.id] = i
    groups: dict = {}
    for j, dm in enumerate(demands):
        groups.setdefault((dm.shift, dm.role), []).append(j)
    d_node = {}
    for j in range(len(demands)):
        d_node[j] = n
        n += 1
    vlat = np.array([v.lat for v in volunteers])
    vlng = np.array([v.lng for v in volunteers])
    vmax = np.array([v.max_km for v in volunteers])
    dlat = np.array([d.lat for d in demands])
    dlng = np.array([d.lng for d in demands])
    arcs = 0
    src, sink = 0, 1
    t_parts, h_parts, c_parts = [], [], []
    for (shift, role), ds in groups.items():
        vols = np.array(
            [
                i
                for i, v in enumerate(volunteers)
                if role in v.skills and shift in v.shifts and v.max_shifts > 0
            ],
            dtype=np.int64,
        )
        if not len(vols):
            continue
        ds = np.asarray(ds)
        for i in vols.tolist():
            if (i, shift) not in vs_nodes:
                vs_nodes[(i, shift)] = n
                n += 1
        vt = cKDTree(geo.to_xyz(vlat[vols], vlng[vols]))
        dt = cKDTree(geo.to_xyz(dlat[ds], dlng[ds]))
        pairs = vt.sparse_distance_matrix(
            dt, float(geo.chord_km(vmax[vols].max())), output_type="ndarray"
        )
        a, b = vols[pairs["i"]], ds[pairs["j"]]
        ok = geo.distance_km(vlat[a], vlng[a], dlat[b], dlng[b]) <= vmax[a]
        a, b = a[ok], b[ok]
        arcs += len(a)
        t_parts.append(np.fromiter((vs_nodes[(i, shift)] for i in a.tolist()), np.int64, len(a)))
        h_parts.append(np.fromiter((d_node[j] for j in b.tolist()), np.int64, len(b)))
        c_parts.append(np.ones(len(a), np.int64))
    for (i, _shift), node in vs_nodes.items():
        tails.append(2 + i)
        heads.append(node)
        caps.append(1)
    for i, v in enumerate(volunteers):
        tails.append(src)
        heads.append(2 + i)
        caps.append(v.max_shifts)
    for j, dm in enumerate(demands):
        tails.append(d_node[j])
        heads.append(sink)
        caps.append(dm.count)
    t_parts.append(np.asarray(tails, np.int64))
    h_parts.append(np.asarray(heads, np.int64))
    c_parts.append(np.asarray(caps, np.int64))
    smf = max_flow.SimpleMaxFlow()
    smf.add_arcs_with_capacity(
        np.concatenate(t_parts).astype(np.int32),
        np.concatenate(h_parts).astype(np.int32),
        np.concatenate(c_parts),
    )
    status = smf.solve(src, sink)
    if status != smf.OPTIMAL:
        raise RuntimeError(f"max flow status {status}")
    return int(smf.optimal_flow()), arcs


def same_fill_km(volunteers, demands, greedy) -> float:
    """Least total km filling exactly as many slots as ``greedy`` did: min-cost flow of that
    amount over the planner's candidate arcs plus greedy's own arcs (so greedy's plan is
    one of the choices, and the result can only be lower)."""
    from tongban.dispatch.solver import DEFAULT_K, DEFAULT_PER_DEMAND, Problem, _Flow, _uniq_first

    p = Problem(volunteers, demands)
    vs, d, km = p.candidates(DEFAULT_K, DEFAULT_PER_DEMAND)
    vid = {v.id: i for i, v in enumerate(p.volunteers)}
    dkey = {dm.key: j for j, dm in enumerate(p.demands)}
    node = {(int(i), int(t)): n for n, (i, t) in enumerate(zip(p.vs_vol, p.vs_shift, strict=True))}
    gvs = np.array(
        [node[(vid[a.volunteer_id], p.shift_index[a.shift])] for a in greedy.assignments],
        dtype=np.int64,
    )
    gd = np.array([dkey[a.demand_key] for a in greedy.assignments], dtype=np.int64)
    keys, first = _uniq_first(np.concatenate([vs * p.nd + d, gvs * p.nd + gd]))
    kms = np.concatenate([km, p.vs_km(gvs, gd)])[first]
    flow = _Flow(p, keys // p.nd, keys % p.nd, geo.metres(kms), amount=greedy.filled)
    return flow.cost / 1000.0


def full_min_cost_km(volunteers, demands) -> float:
    """Least travel of a maximal filling over the *full* network (every feasible arc): what
    pruning to candidate arcs may cost. Small sizes only."""
    from tongban.dispatch.solver import Problem, _Flow

    p = Problem(volunteers, demands)
    vs, d, km = p.feasible_pairs(np.arange(p.nd))
    flow = _Flow(p, vs, d, geo.metres(km))
    return flow.cost / 1000.0


def verify_cut(volunteers, demands, plan_) -> tuple[bool, int, int]:
    """Independent proof that no plan fills more than ``plan_`` (for sizes where the full
    max flow is too big): a plain breadth-first search of the residual network backwards
    from every unfilled slot, with every feasible arc into a reached demand enumerated
    explicitly (KD-tree ball searches, then the exact distance). Reaching a volunteer with a
    spare shift would be an augmenting path. Returns (maximal?, demands reached, arcs looked
    at)."""
    from scipy.spatial import cKDTree

    vid = {v.id: i for i, v in enumerate(volunteers)}
    dkey = {d.key: j for j, d in enumerate(demands)}
    vlat = np.array([v.lat for v in volunteers])
    vlng = np.array([v.lng for v in volunteers])
    vmax = np.array([v.max_km for v in volunteers])
    assigned: dict[tuple[int, object], int] = {}  # (volunteer, shift) -> demand
    used = np.zeros(len(volunteers), np.int64)
    filled = np.zeros(len(demands), np.int64)
    by_vol: dict[int, list] = {}
    for a in plan_.assignments:
        i, j = vid[a.volunteer_id], dkey[a.demand_key]
        assigned[(i, a.shift)] = j
        used[i] += 1
        filled[j] += 1
        by_vol.setdefault(i, []).append(a.shift)
    trees: dict = {}

    def group(shift, role):
        if (shift, role) not in trees:
            idx = np.array(
                [
                    i
                    for i, v in enumerate(volunteers)
                    if role in v.skills and shift in v.shifts and v.max_shifts > 0
                ],
                dtype=np.int64,
            )
            tree = cKDTree(geo.to_xyz(vlat[idx], vlng[idx])) if len(idx) else None
            trees[(shift, role)] = (idx, tree, float(vmax[idx].max()) if len(idx) else 0.0)
        return trees[(shift, role)]

    seen_d = set(np.flatnonzero(filled < np.array([d.count for d in demands])).tolist())
    seen_vs: set = set()
    seen_v: set = set()
    frontier = sorted(seen_d)
    arcs = 0
    while frontier:
        nxt = []
        for j in frontier:
            dm = demands[j]
            idx, tree, rmax = group(dm.shift, dm.role)
            if tree is None:
                continue
            hit = idx[tree.query_ball_point(geo.to_xyz(dm.lat, dm.lng), float(geo.chord_km(rmax)))]
            km = geo.distance_km(vlat[hit], vlng[hit], dm.lat, dm.lng)
            hit = hit[km <= vmax[hit]]
            arcs += len(hit)
            for i in hit.tolist():
                node = (i, dm.shift)
                if node in seen_vs or assigned.get(node) == j:
                    continue
                seen_vs.add(node)
                if node in assigned:  # busy: its demand may let it go
                    nxt.append(assigned[node])
                    continue
                if i in seen_v:
                    continue
                seen_v.add(i)
                if used[i] < volunteers[i].max_shifts:
                    return False, len(seen_d), arcs  # augmenting path
                for s in by_vol.get(i, []):  # the volunteer may give another shift up
                    if (i, s) not in seen_vs:
                        seen_vs.add((i, s))
                        nxt.append(assigned[(i, s)])
        frontier = [j for j in dict.fromkeys(nxt) if j not in seen_d]
        seen_d.update(frontier)
    return True, len(seen_d), arcs
