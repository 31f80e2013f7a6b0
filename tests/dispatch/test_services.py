"""Dispatch services on the real database (SQLite and PostgreSQL): plans saved with their
assignments, notifications written once, minimal re-planning, jurisdiction."""

from __future__ import annotations

import itertools

import pytest

from tests.dispatch.world import CANGLANG_GRID, OTHER_GRID, STREET, place, volunteer
from tongban import dispatch as solver
from tongban.services import dispatch, dispatch_demand
from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.store.models import DispatchAssignment, DispatchPlan, Outbox

pytestmark = pytest.mark.django_db

SHIFT = "2022-04-11 上午"  # a Monday
KM = 0.009  # about 1 km of latitude


@pytest.fixture
def coordinator(users):
    return users.clerk_yangchenghu  # 阳澄湖镇 window clerk


@pytest.fixture
def small(coordinator):
    """Two sites, four volunteers at known distances; 2 slots at A, 1 at B."""
    a = place("A站", 0, 0)
    b = place("B站", 2 * KM, 0)
    vols = {
        "v1": volunteer("甲", 0.2 * KM, 0),
        "v2": volunteer("乙", 0.5 * KM, 0),
        "v3": volunteer("丙", 1.8 * KM, 0),
        "v4": volunteer("丁", 3.0 * KM, 0, skills="秩序维护"),
    }
    ds = dispatch_demand.create_set(coordinator, STREET, "核酸采样 4 月 11 日", 5, 1)
    dispatch_demand.add_line(ds.pk, coordinator, a.pk, SHIFT, "信息录入", 2)
    dispatch_demand.add_line(ds.pk, coordinator, b.pk, SHIFT, "信息录入", 1)
    return ds, a, b, vols


def brute_force_km(vols, demands) -> float:
    """Least total km filling every slot, by trying every assignment (tiny cases)."""
    slots = [d for d in demands for _ in range(d.count)]
    best = None
    for perm in itertools.permutations(vols, len(slots)):
        km = sum(
            solver.geo.distance_km(v.lat, v.lng, d.lat, d.lng)
            for v, d in zip(perm, slots, strict=True)
        )
        if all(d.role in v.skills for v, d in zip(perm, slots, strict=True)):
            best = km if best is None else min(best, km)
    return float(best)


def test_plan_is_saved_optimal_and_notifies_each_volunteer_once(small, coordinator):
    ds, a, b, vols = small
    out = dispatch.plan(ds.pk, coordinator)
    assert (out.filled, out.missing) == (3, 0)
    plan = DispatchPlan.objects.get(demand_set=ds)
    got = {(x.volunteer.name, x.place.name) for x in plan.assignments.select_related()}
    assert got == {("甲", "A站"), ("乙", "A站"), ("丙", "B站")}
    # the saved optimum equals the brute force over the same registry data
    svols, sdems, _, _ = dispatch._inputs(ds, set())
    assert plan.total_m / 1000 == pytest.approx(brute_force_km(svols, sdems), abs=0.01)
    msgs = Outbox.objects.filter(topic__startswith="dispatch.")
    assert msgs.count() == 3
    m = msgs.get(recipient=f"volunteer:{vols['v3'].pk}")
    assert m.topic == "dispatch.assigned"
    first = m.payload["assignments"][0]
    assert (first["place"], first["shift"], first["role"]) == ("B站", SHIFT, "信息录入")
    assert first["address"] == "B站地址" and "B站地址" in m.payload["text"]


def test_dry_run_writes_nothing(small, coordinator):
    ds, *_ = small
    out = dispatch.plan(ds.pk, coordinator, dry_run=True)
    assert out.filled == 3 and out.plan is None
    assert not DispatchPlan.objects.exists() and not Outbox.objects.exists()


def test_replan_without_changes_changes_nothing_and_notifies_nobody(small, coordinator):
    ds, *_ = small
    dispatch.plan(ds.pk, coordinator)
    before = Outbox.objects.count()
    out = dispatch.plan(ds.pk, coordinator)
    assert (len(out.added), len(out.removed), out.notified) == (0, 0, 0)
    assert Outbox.objects.count() == before
    assert DispatchPlan.objects.filter(demand_set=ds).count() == 2


def test_drop_changes_as_little_as_possible(small, coordinator):
    ds, a, b, vols = small
    spare = volunteer("戊", 2.5 * KM, 0)  # a fourth data-entry volunteer, farther from all
    dispatch.plan(ds.pk, coordinator)
    assert not DispatchAssignment.objects.filter(volunteer=spare).exists()
    first = dispatch.current_plan(ds)
    kept_before = set(first.assignments.values_list("volunteer_id", "place_id"))
    dropped = next(iter(v for v, p in kept_before if p == a.pk))
    Outbox.objects.all().delete()
    out = dispatch.drop(ds.pk, coordinator, dropped)
    assert out.missing == 0
    after = set(dispatch.current_plan(ds).assignments.values_list("volunteer_id", "place_id"))
    # exactly the dropped assignment left and one new one came: nothing else moved
    assert len(kept_before - after) == 1 and len(after - kept_before) == 1
    notified = set(Outbox.objects.values_list("recipient", flat=True))
    newcomer = next(iter(after - kept_before))[0]
    assert notified == {f"volunteer:{dropped}", f"volunteer:{newcomer}"}
    assert Outbox.objects.get(recipient=f"volunteer:{dropped}").topic == "dispatch.cancelled"
    # the dropped volunteer stays out of later runs
    dispatch.plan(ds.pk, coordinator)
    assert not dispatch.current_plan(ds).assignments.filter(volunteer_id=dropped).exists()
    with pytest.raises(Invalid):
        dispatch.drop(ds.pk, coordinator, dropped)


def test_unfilled_demand_has_a_reason(small, coordinator):
    ds, a, *_ = small
    dispatch_demand.add_line(ds.pk, coordinator, a.pk, SHIFT, "医护", 1)
    far = place("远站", 50 * KM, 0)
    dispatch_demand.add_line(ds.pk, coordinator, far.pk, SHIFT, "秩序维护", 1)
    out = dispatch.plan(ds.pk, coordinator)
    reasons = {(u["place"], u["role"]): u["reason"] for u in out.unfilled}
    assert reasons == {("A站", "医护"): "no_skill", ("远站", "秩序维护"): "out_of_range"}
    assert all(u["text"] for u in out.unfilled)


def test_availability_words_decide_shifts(coordinator):
    a = place("A站")
    volunteer("周末的", 0.1 * KM, 0, availability="周末")
    ds = dispatch_demand.create_set(coordinator, STREET, "工作日", 5, 1)
    dispatch_demand.add_line(ds.pk, coordinator, a.pk, SHIFT, "信息录入", 1)
    out = dispatch.plan(ds.pk, coordinator)
    assert out.unfilled[0]["reason"] == "not_available"


def test_jurisdiction(small, coordinator, users):
    ds, a, *_ = small
    other = users.clerk_canglang  # another district's street
    with pytest.raises(NotFound):
        dispatch.plan(ds.pk, other)
    with pytest.raises(Forbidden):
        dispatch_demand.create_set(other, STREET, "越权", 5, 1)
    # a place of another district cannot be put into this set
    theirs = place("南门站", grid=CANGLANG_GRID)
    with pytest.raises(Invalid):
        dispatch_demand.add_line(ds.pk, coordinator, theirs.pk, SHIFT, "信息录入", 1)
    # volunteers of another district are never planned here
    volunteer("外区", 0, 0, grid=CANGLANG_GRID)
    dispatch.plan(ds.pk, coordinator)
    names = set(dispatch.current_plan(ds).assignments.values_list("volunteer__name", flat=True))
    assert "外区" not in names


def test_community_set_sees_only_its_community(coordinator):
    mine = place("湘城站")
    theirs = place("消泾站", grid=OTHER_GRID)
    ds = dispatch_demand.create_set(coordinator, "320507103001", "湘城社区", 5, 1)
    assert list(dispatch_demand.sites(ds)) == [mine]
    with pytest.raises(Invalid):
        dispatch_demand.add_line(ds.pk, coordinator, theirs.pk, SHIFT, "信息录入", 1)


def test_bad_input_is_refused_in_chinese(small, coordinator):
    ds, a, *_ = small
    with pytest.raises(Invalid, match="日期 时段"):
        dispatch_demand.add_line(ds.pk, coordinator, a.pk, "明天上午", "信息录入", 1)
    with pytest.raises(Invalid, match="人数"):
        dispatch_demand.add_line(ds.pk, coordinator, a.pk, SHIFT, "信息录入", "两")
    with pytest.raises(Invalid, match="最远出行距离"):
        dispatch_demand.create_set(coordinator, STREET, "x", 0, 1)
