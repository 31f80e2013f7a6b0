"""Dispatch planning without a database: optimum against brute force, reasons, limits."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from tongban.dispatch import (
    CAPACITY,
    NO_SKILL,
    NOT_AVAILABLE,
    OUT_OF_RANGE,
    Demand,
    Volunteer,
    check_plan,
    geo,
    greedy_plan,
    plan,
)

LAT0, LNG0 = 31.30, 120.62
KM_LAT = np.pi * geo.EARTH_RADIUS_KM / 180.0


def at(x_km: float, y_km: float) -> tuple[float, float]:
    """A point x km east and y km north of the origin (flat approximation is fine here)."""
    return LAT0 + y_km / KM_LAT, LNG0 + x_km / (KM_LAT * np.cos(np.radians(LAT0)))


def vol(i, x, y, skills=("queue",), shifts=("am",), max_shifts=1, max_km=5.0):
    lat, lng = at(x, y)
    return Volunteer(i, lat, lng, frozenset(skills), frozenset(shifts), max_shifts, max_km)


def dem(site, x, y, shift="am", role="queue", count=1):
    lat, lng = at(x, y)
    return Demand(site, lat, lng, shift, role, count)


def brute_force(volunteers, demands):
    """(most slots, least metres) over every assignment, by enumeration."""
    pairs = [(v, s) for v in volunteers for s in sorted(v.shifts)]
    # metres of every (volunteer, demand) pair, one vectorised call like the solver's
    vi = [i for i in range(len(volunteers)) for _ in demands]
    di = [j for _ in volunteers for j in range(len(demands))]
    km = geo.distance_km(
        [volunteers[i].lat for i in vi],
        [volunteers[i].lng for i in vi],
        [demands[j].lat for j in di],
        [demands[j].lng for j in di],
    ).reshape(len(volunteers), len(demands))
    m = geo.metres(km)
    index = {v.id: i for i, v in enumerate(volunteers)}
    options = []
    for v, s in pairs:
        i = index[v.id]
        opts = [None] + [
            j
            for j, d in enumerate(demands)
            if d.shift == s and d.role in v.skills and km[i, j] <= v.max_km
        ]
        options.append(opts)
    best = (-1, 0)
    for choice in itertools.product(*options):
        load = [0] * len(demands)
        shifts_used = [0] * len(volunteers)
        ok = True
        filled = metres = 0
        for (v, _), j in zip(pairs, choice, strict=True):
            if j is None:
                continue
            i = index[v.id]
            load[j] += 1
            shifts_used[i] += 1
            if load[j] > demands[j].count or shifts_used[i] > v.max_shifts:
                ok = False
                break
            filled += 1
            metres += int(m[i, j])
        if ok and (filled > best[0] or (filled == best[0] and metres < best[1])):
            best = (filled, metres)
    return best


def random_instance(seed: int):
    rng = random.Random(seed)
    shifts = ["am", "pm"]
    roles = ["queue", "entry"]
    volunteers = []
    for i in range(rng.randint(3, 6)):
        skills = [r for r in roles if rng.random() < 0.6] or [rng.choice(roles)]
        avail = [s for s in shifts if rng.random() < 0.6] or [rng.choice(shifts)]
        volunteers.append(
            vol(
                f"v{i}",
                rng.uniform(0, 4),
                rng.uniform(0, 4),
                skills,
                avail,
                max_shifts=rng.choice([1, 1, 2]),
                max_km=rng.choice([1.5, 2.5, 4.0]),
            )
        )
    demands = []
    for s in range(rng.randint(1, 3)):
        x, y = rng.uniform(0, 4), rng.uniform(0, 4)
        for shift in shifts:
            for role in roles:
                if rng.random() < 0.45:
                    demands.append(dem(f"s{s}", x, y, shift, role, rng.randint(1, 2)))
    if not demands:
        demands.append(dem("s0", 2, 2, "am", "queue", 1))
    return volunteers, demands


@pytest.mark.parametrize("seed", range(20))
def test_optimum_matches_brute_force(seed):
    volunteers, demands = random_instance(seed)
    best_filled, best_metres = brute_force(volunteers, demands)
    p = plan(volunteers, demands)
    assert check_plan(p, volunteers, demands) == []
    assert p.filled == best_filled
    assert p.total_m == best_metres
    assert p.stats["certified"]
    assert p.filled + p.missing == sum(d.count for d in demands)


@pytest.mark.parametrize("seed", range(20))
def test_pruning_never_costs_a_slot(seed):
    """With one candidate arc per volunteer×shift and none per demand, the search over the
    full network still finds the maximal filling (travel may be worse)."""
    volunteers, demands = random_instance(seed)
    best_filled, best_metres = brute_force(volunteers, demands)
    p = plan(volunteers, demands, k=1, per_demand=0)
    assert check_plan(p, volunteers, demands) == []
    assert p.filled == best_filled
    assert p.total_m >= best_metres
    g = greedy_plan(volunteers, demands)
    assert check_plan(g, volunteers, demands) == []
    assert g.filled <= best_filled


def test_search_fills_what_pruned_candidates_miss():
    # A can reach both sites, B only site 1; both have site 1 as their nearest.
    volunteers = [vol("A", 0.5, 0, max_km=3), vol("B", -0.5, 0, max_km=1)]
    demands = [dem("S1", 0, 0), dem("S2", 2.5, 0)]
    p = plan(volunteers, demands, k=1, per_demand=0)
    assert p.stats["candidate_fill"] == 1
    assert p.filled == 2 and p.stats["certified"]
    assert {(a.volunteer_id, a.site_id) for a in p.assignments} == {("A", "S2"), ("B", "S1")}


def test_minimises_total_travel_not_each_choice():
    # On a line: S2 (-1.5) · A (0) · S1 (1) · B (2.1). Nearest first takes A–S1 (1 km) and
    # sends B 3.6 km to S2: 4.6 km; the optimum is A–S2 + B–S1 = 1.5 + 1.1 = 2.6 km.
    volunteers = [vol("A", 0, 0, max_km=5), vol("B", 2.1, 0, max_km=5)]
    demands = [dem("S1", 1.0, 0), dem("S2", -1.5, 0)]
    p = plan(volunteers, demands)
    g = greedy_plan(volunteers, demands)
    assert p.filled == g.filled == 2
    assert p.total_m < g.total_m
    assert {(a.volunteer_id, a.site_id) for a in p.assignments} == {("A", "S2"), ("B", "S1")}
    assert p.total_km == pytest.approx(2.6, abs=0.01)
    assert g.total_km == pytest.approx(4.6, abs=0.01)


def test_unfilled_reasons():
    volunteers = [
        vol("near", 0, 0, skills=["queue", "entry"], shifts=["am"], max_km=3),
        vol("night_owl", 0.2, 0, skills=["queue"], shifts=["night"], max_km=3),
        vol("far", 40, 0, skills=["queue"], shifts=["am", "night"], max_km=2),
    ]
    demands = [
        dem("S1", 0, 0, "am", "medic", 1),  # nobody is a medic
        dem("S2", 20, 0, "am", "queue", 1),  # queue volunteers exist, none in range
        dem("S3", 0.5, 0, "pm", "queue", 1),  # in range, nobody free in the afternoon
        dem("S4", 0.5, 0, "am", "entry", 3),  # one suitable volunteer for three slots
    ]
    p = plan(volunteers, demands)
    assert check_plan(p, volunteers, demands) == []
    by_site = {u.demand.site_id: u for u in p.unfilled}
    assert by_site["S1"].reason == NO_SKILL and by_site["S1"].missing == 1
    assert by_site["S2"].reason == OUT_OF_RANGE
    assert by_site["S3"].reason == NOT_AVAILABLE
    assert by_site["S4"].reason == CAPACITY
    assert by_site["S4"].missing == 2 and by_site["S4"].candidates == 1
    assert "1 名" in by_site["S4"].text
    assert p.unfilled_by_reason() == {NO_SKILL: 1, OUT_OF_RANGE: 1, NOT_AVAILABLE: 1, CAPACITY: 2}


def test_capacity_when_the_only_volunteer_is_needed_elsewhere():
    volunteers = [vol("A", 0, 0, shifts=["am"], max_km=3)]
    demands = [dem("S1", 0.1, 0), dem("S2", 0.2, 0)]
    p = plan(volunteers, demands)
    assert p.filled == 1
    (u,) = p.unfilled
    assert u.reason == CAPACITY and u.candidates == 1


def test_shift_limits_and_one_place_per_shift():
    volunteers = [vol("A", 0, 0, shifts=["am", "pm", "eve"], max_shifts=2, max_km=3)]
    demands = [
        dem("S1", 0.1, 0, "am"),
        dem("S2", 0.2, 0, "am"),
        dem("S1", 0.1, 0, "pm"),
        dem("S1", 0.1, 0, "eve"),
    ]
    p = plan(volunteers, demands)
    assert check_plan(p, volunteers, demands) == []
    assert p.filled == 2
    shifts = [a.shift for a in p.assignments]
    assert len(set(shifts)) == 2
    assert all(u.reason == CAPACITY for u in p.unfilled)


def test_max_travel_is_respected():
    volunteers = [vol("A", 0, 0, max_km=2.0)]
    lat, lng = at(0, 0)
    # 2.001 km due north: just beyond range; 1.999 km: just within
    beyond = Demand("far", lat + 2.001 / KM_LAT, lng, "am", "queue", 1)
    within = Demand("near", lat + 1.999 / KM_LAT, lng, "pm", "queue", 1)
    p = plan([volunteers[0]], [beyond])
    assert p.filled == 0 and p.unfilled[0].reason == OUT_OF_RANGE
    v2 = vol("A", 0, 0, shifts=["pm"], max_km=2.0)
    p = plan([v2], [within])
    assert p.filled == 1 and p.assignments[0].metres == 1999


def test_metres_and_ids_come_back_unchanged():
    volunteers = [vol(101, 0, 0, skills=["数据录入"], shifts=["2022-04-10 上午"])]
    demands = [dem(("苏州", 7), 1, 0, "2022-04-10 上午", "数据录入", 1)]
    p = plan(volunteers, demands)
    (a,) = p.assignments
    assert (a.volunteer_id, a.site_id, a.shift, a.role) == (
        101,
        ("苏州", 7),
        "2022-04-10 上午",
        "数据录入",
    )
    assert a.metres == pytest.approx(1000, abs=2)
    assert p.total_km == a.metres / 1000


def test_empty_and_invalid_input():
    assert plan([], []).filled == 0
    p = plan([], [dem("S", 0, 0)])
    assert p.unfilled[0].reason == NO_SKILL
    p = plan([vol("A", 0, 0)], [])
    assert p.filled == 0 and p.unfilled == ()
    with pytest.raises(ValueError):
        plan([vol("A", 0, 0), vol("A", 1, 1)], [])
    with pytest.raises(ValueError):
        plan([], [dem("S", 0, 0), dem("S", 0, 0)])
    zero = plan([vol("A", 0, 0)], [dem("S", 0, 0, count=0)])
    assert zero.filled == 0 and zero.unfilled == ()


def test_deterministic_and_matches_full_network_on_a_city():
    """A few hundred volunteers: fills exactly as much as a max flow over every feasible
    arc (computed here independently) and never breaks a rule."""
    from ortools.graph.python import max_flow

    rng = random.Random(7)
    volunteers = [
        vol(
            i,
            rng.uniform(0, 10),
            rng.uniform(0, 10),
            [r for r in ("queue", "entry") if rng.random() < 0.5] or ["queue"],
            [s for s in ("am", "pm", "eve") if rng.random() < 0.5] or ["am"],
            rng.choice([1, 2]),
            rng.choice([1.0, 2.0, 4.0]),
        )
        for i in range(300)
    ]
    demands = [
        dem(f"S{j}", x, y, s, r, c)
        for j, (x, y) in enumerate((rng.uniform(0, 10), rng.uniform(0, 10)) for _ in range(25))
        for s in ("am", "pm", "eve")
        for r, c in (("entry", 2), ("queue", 3))
    ]
    p1 = plan(volunteers, demands, k=2, per_demand=1)
    p2 = plan(volunteers, demands, k=2, per_demand=1)
    assert p1.assignments == p2.assignments
    assert check_plan(p1, volunteers, demands) == []

    smf = max_flow.SimpleMaxFlow()
    node = itertools.count(2)
    vnode = {v.id: next(node) for v in volunteers}
    vsnode = {(v.id, s): next(node) for v in volunteers for s in v.shifts}
    dnode = {d.key: next(node) for d in demands}
    for v in volunteers:
        smf.add_arc_with_capacity(0, vnode[v.id], v.max_shifts)
        for s in v.shifts:
            smf.add_arc_with_capacity(vnode[v.id], vsnode[(v.id, s)], 1)
            for d in demands:
                if d.shift == s and d.role in v.skills:
                    km = float(geo.distance_km(v.lat, v.lng, d.lat, d.lng))
                    if km <= v.max_km:
                        smf.add_arc_with_capacity(vsnode[(v.id, s)], dnode[d.key], 1)
    for d in demands:
        smf.add_arc_with_capacity(dnode[d.key], 1, d.count)
    assert smf.solve(0, 1) == smf.OPTIMAL
    assert p1.filled == smf.optimal_flow()
    assert p1.stats["candidate_fill"] <= p1.filled
