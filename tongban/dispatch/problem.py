"""The planning problem as arrays and spatial indexes (internal to the solver).

:class:`Problem` turns volunteers and demands into numpy arrays, the volunteer×shift
nodes of the flow network, the (shift, role) groups and lazily built KD-trees; it finds
the candidate arcs and, on request, every feasible arc. The flow itself is in ``flow``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from scipy.spatial import cKDTree

from tongban.dispatch import geo
from tongban.dispatch.model import Demand, Volunteer

_EMPTY = np.zeros(0, dtype=np.int64)


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
