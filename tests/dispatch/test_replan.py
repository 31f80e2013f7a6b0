"""Re-planning: a dropped volunteer changes only the slots they leave."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from tests.dispatch.test_solver import dem, vol
from tongban.dispatch import Assignment, Plan, check_plan, plan, replan


def city(seed: int, n_vol: int = 120, n_site: int = 10):
    rng = random.Random(seed)
    volunteers = [
        vol(
            f"v{i}",
            rng.uniform(0, 6),
            rng.uniform(0, 6),
            [r for r in ("queue", "entry") if rng.random() < 0.6] or ["queue"],
            [s for s in ("am", "pm") if rng.random() < 0.6] or ["am"],
            rng.choice([1, 2]),
            rng.choice([1.5, 3.0]),
        )
        for i in range(n_vol)
    ]
    demands = []
    for j in range(n_site):
        x, y = rng.uniform(0, 6), rng.uniform(0, 6)
        for s in ("am", "pm"):
            demands += [dem(f"S{j}", x, y, s, "entry", 2), dem(f"S{j}", x, y, s, "queue", 3)]
    return volunteers, demands


@pytest.mark.parametrize("seed", range(8))
def test_dropping_one_volunteer_changes_only_their_slots(seed):
    volunteers, demands = city(seed)
    before = plan(volunteers, demands)
    rng = random.Random(seed)
    gone = rng.choice(sorted({a.volunteer_id for a in before.assignments}))
    theirs = {a.key for a in before.assignments if a.volunteer_id == gone}
    freed = {a.demand_key for a in before.assignments if a.volunteer_id == gone}

    # without moves: exactly the dropped volunteer's slots change
    r = replan(before, volunteers, demands, [gone], allow_moves=False)
    rest = [v for v in volunteers if v.id != gone]
    assert check_plan(r.plan, rest, demands) == []
    assert {a.key for a in r.removed} == theirs
    assert all(a.demand_key in freed for a in r.added)
    assert len(r.added) <= len(theirs)
    assert r.changed == len(r.removed) + len(r.added)
    kept = {a.key for a in before.assignments} - theirs
    assert kept <= {a.key for a in r.plan.assignments}
    assert gone not in r.notices([gone])
    assert set(r.notices([gone])) == {a.volunteer_id for a in r.added}

    # with moves: as much filled as planning from scratch, moves only when that fills more,
    # and far fewer changes than planning from scratch
    m = replan(before, volunteers, demands, [gone])
    scratch = plan(rest, demands)
    assert check_plan(m.plan, rest, demands) == []
    assert m.plan.filled == scratch.filled
    if m.plan.stats["stage"] == 2:
        assert {a.key for a in m.plan.assignments} == {a.key for a in r.plan.assignments}
    else:
        assert m.plan.filled > r.plan.filled
    old = {a.key for a in before.assignments}
    new = {a.key for a in scratch.assignments}
    assert m.changed <= len(old ^ new)


def test_nothing_changed_nothing_moves():
    volunteers, demands = city(3)
    before = plan(volunteers, demands)
    r = replan(before, volunteers, demands)
    assert r.changed == 0
    assert {a.key for a in r.plan.assignments} == {a.key for a in before.assignments}
    assert r.plan.unfilled_by_reason() == before.unfilled_by_reason()


def _a(v, site):
    return Assignment(v, site, "am", "queue", 0)


def test_moves_only_when_they_fill_more():
    # A reaches S1 and S2, B only S1, C only S2. Before: A–S1, C–S2. C drops out: S2 can
    # only be filled by moving A there and B into S1.
    volunteers = [vol("A", 0, 0, max_km=3), vol("B", -1, 0, max_km=1.5), vol("C", 3, 0, max_km=1.5)]
    demands = [dem("S1", -0.5, 0), dem("S2", 2, 0)]
    before = Plan((_a("A", "S1"), _a("C", "S2")))

    stay = replan(before, volunteers, demands, ["C"], allow_moves=False)
    assert stay.plan.filled == 1 and stay.changed == 1
    assert [a.key for a in stay.removed] == [("C", "S2", "am", "queue")]
    assert stay.plan.unfilled[0].demand.site_id == "S2"

    moved = replan(before, volunteers, demands, ["C"])
    assert moved.plan.filled == 2
    assert {(a.volunteer_id, a.site_id) for a in moved.plan.assignments} == {
        ("A", "S2"),
        ("B", "S1"),
    }
    assert moved.changed == 4 and moved.plan.stats["stage"] == 3
    assert set(moved.notices(["C"])) == {"A", "B"}
    assert moved.notices(["C"])["A"]["removed"][0].site_id == "S1"


def test_moves_keep_everything_else():
    # as above, plus bystanders D–S3 and E–S3 that a re-plan from scratch could shuffle
    volunteers = [
        vol("A", 0, 0, max_km=3),
        vol("B", -1, 0, max_km=1.5),
        vol("C", 3, 0, max_km=1.5),
        vol("D", 10, 0, max_km=2),
        vol("E", 10.5, 0, max_km=2),
    ]
    demands = [dem("S1", -0.5, 0), dem("S2", 2, 0), dem("S3", 10.2, 0, count=2)]
    before = plan(volunteers, demands)
    assert before.filled == 4
    r = replan(before, volunteers, demands, ["C"])
    assert r.plan.filled == 4
    assert {a.volunteer_id for a in r.removed + r.added} <= {"A", "B", "C"}


def test_invalid_assignments_are_dropped_nearest_kept():
    volunteers = [vol("A", 0, 0), vol("B", 0.5, 0), vol("C", 1, 0)]
    demands = [dem("S1", 0, 0, count=3)]
    before = plan(volunteers, demands)
    assert before.filled == 3
    # the demand shrinks to 2 and B is no longer available in the morning
    demands2 = [replace(demands[0], count=2)]
    volunteers2 = [volunteers[0], replace(volunteers[1], shifts=frozenset({"pm"})), volunteers[2]]
    r = replan(before, volunteers2, demands2)
    assert {a.volunteer_id for a in r.plan.assignments} == {"A", "C"}
    assert {a.volunteer_id for a in r.removed} == {"B"} and r.added == ()
    # and when it shrinks to 1, the nearest (A) stays
    r = replan(before, volunteers, [replace(demands[0], count=1)])
    assert [a.volunteer_id for a in r.plan.assignments] == ["A"]


def test_new_volunteer_fills_an_open_slot_without_moving_others():
    volunteers = [vol("A", 0, 0)]
    demands = [dem("S1", 0, 0), dem("S2", 0.3, 0)]
    before = plan(volunteers, demands)
    assert before.filled == 1
    r = replan(before, volunteers + [vol("N", 0.2, 0)], demands)
    assert r.plan.filled == 2 and r.removed == () and len(r.added) == 1
    assert r.added[0].volunteer_id == "N"
