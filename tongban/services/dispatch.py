"""Volunteer dispatch use cases: plan a demand set, re-plan after a drop-out, notify.

- ``plan(pk, user)``: sites are the set's places, supply the volunteer profiles of its org
  subtree (home coordinates, skills split on 、, availability words → shifts, see
  ``tongban.dispatch.shifts``; the set's range and shift limit apply to all). The first
  plan is optimal (``tongban.dispatch.plan``); later runs re-plan from the current plan
  (``tongban.dispatch.replan``) so that editing demand changes as few assignments as
  possible. ``dry_run=True`` computes and writes nothing.
- ``drop(pk, user, volunteer)``: the volunteer leaves the set for good; re-planned with as
  few changes as possible.
- One transaction writes the plan, its assignments and the outbox messages: one message
  per volunteer whose assignments changed (all of them on the first plan), none for the
  others. Topics ``dispatch.assigned`` (new), ``dispatch.changed`` (some added, some
  cancelled), ``dispatch.cancelled`` (only cancelled — a dropped volunteer gets this as a
  confirmation). The payload has the site, address, shift, role and a ready SMS text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban import dispatch as solver
from tongban.services.dispatch_demand import ANYONE, get_set, sites, volunteers
from tongban.services.errors import Invalid, NotFound
from tongban.store.models import DemandSet, DispatchAssignment, DispatchPlan, Outbox, Place
from tongban.store.models import Volunteer as VolunteerProfile

_SPLIT = re.compile(r"[、,，;；/\s]+")


@dataclass
class Outcome:
    """What a planning run did, for the page and the command line."""

    demand_set: DemandSet
    plan: DispatchPlan | None  # None on a dry run
    filled: int
    missing: int
    total_km: float
    unfilled: list[dict[str, Any]]
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    notified: int = 0
    skipped_no_home: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "demand_set": self.demand_set.pk,
            "plan": self.plan.pk if self.plan else None,
            "dry_run": self.dry_run,
            "filled": self.filled,
            "missing": self.missing,
            "total_km": round(self.total_km, 3),
            "unfilled": self.unfilled,
            "added": self.added,
            "removed": self.removed,
            "notified": self.notified,
            "skipped_no_home": self.skipped_no_home,
        }


def current_plan(ds: DemandSet) -> DispatchPlan | None:
    return ds.plans.order_by("-pk").first()


def _skills(text: str) -> set[str]:
    return {s for s in _SPLIT.split(text or "") if s} | {ANYONE}


def _inputs(ds: DemandSet, dropped: set[int]):
    """Solver input from the registries: (volunteers, demands, places, skipped)."""
    lines = list(ds.lines.select_related("place"))
    if not lines:
        raise Invalid("还没有填写排班需求")
    places: dict[int, Place] = {}
    demands = []
    for line in lines:
        p = line.place
        if p.lat is None or p.lng is None:
            raise Invalid(f"站点“{p.name}”未登记坐标，无法排班，请先在场所台账中补充")
        places[p.pk] = p
        demands.append(solver.Demand(p.pk, p.lat, p.lng, line.shift, line.role, line.count))
    shifts = sorted({d.shift for d in demands})
    vols, skipped = [], 0
    rows = volunteers(ds).values_list("pk", "home_lat", "home_lng", "skills", "availability")
    for pk, lat, lng, skills, availability in rows:
        if pk in dropped:
            continue
        if lat is None or lng is None:
            skipped += 1
            continue
        vols.append(
            solver.Volunteer(
                id=pk,
                lat=lat,
                lng=lng,
                skills=_skills(skills),
                shifts=solver.available_shifts(availability, shifts),
                max_shifts=ds.max_shifts,
                max_km=ds.max_km,
            )
        )
    return vols, demands, places, skipped


def as_solver_plan(plan: DispatchPlan | None) -> solver.Plan:
    if plan is None:
        return solver.Plan(())
    rows = plan.assignments.values_list("volunteer_id", "place_id", "shift", "role", "metres")
    return solver.Plan(tuple(solver.Assignment(*r) for r in rows))


def _unfilled(result: solver.Plan, places: dict[int, Place]) -> list[dict[str, Any]]:
    return [
        {
            "place_id": u.demand.site_id,
            "place": places[u.demand.site_id].name,
            "shift": u.demand.shift,
            "role": u.demand.role,
            "count": u.demand.count,
            "missing": u.missing,
            "reason": u.reason,
            "text": u.text,
            "candidates": u.candidates,
        }
        for u in sorted(result.unfilled, key=lambda u: (u.demand.shift, str(u.demand.site_id)))
    ]


def _describe(a: solver.Assignment, places: dict[int, Place], names: dict[int, str]) -> dict:
    p = places[a.site_id]
    return {
        "volunteer_id": a.volunteer_id,
        "volunteer": names.get(a.volunteer_id, str(a.volunteer_id)),
        "place_id": a.site_id,
        "place": p.name,
        "address": p.address,
        "shift": a.shift,
        "role": a.role,
        "km": round(a.metres / 1000, 2),
    }


def _sms(name: str, added: list[dict], removed: list[dict], title: str) -> str:
    parts = [f"{name}您好："]
    if removed:
        gone = "；".join(f"{r['shift']} {r['place']}（{r['role']}）" for r in removed)
        parts.append(f"您在“{title}”中的以下安排已取消：{gone}。")
    if added:
        new = "；".join(
            f"{a['shift']} 到 {a['place']}{'（' + a['address'] + '）' if a['address'] else ''}"
            f"担任{a['role']}"
            for a in added
        )
        parts.append(f"请于 {new}。如不能到岗请及时告知社区。")
    parts.append("感谢您的志愿服务！")
    return "".join(parts)


def _messages(ds, plan, added, removed, profiles, now) -> list[Outbox]:
    per: dict[int, dict[str, list]] = {}
    for kind, items in (("added", added), ("removed", removed)):
        for item in items:
            per.setdefault(item["volunteer_id"], {"added": [], "removed": []})[kind].append(item)
    rows = []
    for vid, change in sorted(per.items()):
        prof = profiles.get(vid)
        name = prof.name if prof else str(vid)
        if change["added"] and change["removed"]:
            topic = "dispatch.changed"
        elif change["added"]:
            topic = "dispatch.assigned"
        else:
            topic = "dispatch.cancelled"
        rows.append(
            Outbox(
                topic=topic,
                recipient=f"volunteer:{vid}",
                payload={
                    "volunteer": vid,
                    "name": name,
                    "phone": prof.phone if prof else "",
                    "demand_set": ds.pk,
                    "plan": plan.pk,
                    "assignments": change["added"],
                    "cancelled": change["removed"],
                    "text": _sms(name, change["added"], change["removed"], ds.title),
                },
                created_at=now,
            )
        )
    return rows


def _run(pk: int, user, *, drop_ids: tuple[int, ...] = (), dry_run: bool = False) -> Outcome:
    with transaction.atomic():
        ds = get_set(pk, user, lock=not dry_run)
        prev = current_plan(ds)
        dropped = set(prev.dropped if prev else ()) | set(drop_ids)
        vols, demands, places, skipped = _inputs(ds, dropped)
        before = as_solver_plan(prev)
        if prev is None:
            result = solver.plan(vols, demands)
        else:
            result = solver.replan(before, vols, demands, dropped).plan
        # the difference is taken against what volunteers were told, whatever the method
        old, new = set(before.assignments), set(result.assignments)
        removed_a = sorted(old - new, key=lambda a: (a.volunteer_id, str(a.shift)))
        added_a = sorted(new - old, key=lambda a: (a.volunteer_id, str(a.shift)))
        vids = {a.volunteer_id for a in old | new}
        profiles = {v.pk: v for v in VolunteerProfile.objects.filter(pk__in=vids)}
        names = {k: v.name for k, v in profiles.items()}
        known = dict(places)
        for a in removed_a:  # a cancelled site may have left the demand
            if a.site_id not in known:
                known[a.site_id] = Place.objects.get(pk=a.site_id)
        added = [_describe(a, known, names) for a in added_a]
        removed = [_describe(a, known, names) for a in removed_a]
        out = Outcome(
            demand_set=ds,
            plan=None,
            filled=result.filled,
            missing=result.missing,
            total_km=result.total_km,
            unfilled=_unfilled(result, places),
            added=added,
            removed=removed,
            skipped_no_home=skipped,
            dry_run=dry_run,
        )
        if dry_run:
            return out
        now = timezone.now()
        kind = (
            DispatchPlan.Kind.DROP
            if drop_ids
            else (DispatchPlan.Kind.REPLAN if prev else DispatchPlan.Kind.PLAN)
        )
        stats = {k: v for k, v in result.stats.items() if isinstance(v, int | float | bool)}
        plan = DispatchPlan.objects.create(
            demand_set=ds,
            kind=kind,
            created_by=user,
            created_at=now,
            filled=result.filled,
            missing=result.missing,
            total_m=result.total_m,
            added=len(added),
            removed=len(removed),
            unfilled=out.unfilled,
            dropped=sorted(dropped),
            stats={**stats, "skipped_no_home": skipped},
        )
        DispatchAssignment.objects.bulk_create(
            DispatchAssignment(
                plan=plan,
                volunteer_id=a.volunteer_id,
                place_id=a.site_id,
                shift=a.shift,
                role=a.role,
                metres=a.metres,
            )
            for a in result.assignments
        )
        msgs = _messages(ds, plan, added, removed, profiles, now)
        Outbox.objects.bulk_create(msgs)
        out.plan, out.notified = plan, len(msgs)
        return out


def plan(pk: int, user, *, dry_run: bool = False) -> Outcome:
    """Plan (or re-plan, keeping what can be kept) the demand set; see the module doc."""
    return _run(pk, user, dry_run=dry_run)


def drop(pk: int, user, volunteer_id: int, *, dry_run: bool = False) -> Outcome:
    """The volunteer drops out of the set: re-plan with as few changes as possible."""
    ds = get_set(pk, user)
    if not volunteers(ds).filter(pk=volunteer_id).exists():
        raise NotFound("该志愿者不在本排班的辖区内")
    prev = current_plan(ds)
    if prev is None:
        raise Invalid("还没有排班方案，无需标记退出")
    if volunteer_id in prev.dropped:
        raise Invalid("该志愿者已标记退出")
    return _run(pk, user, drop_ids=(volunteer_id,), dry_run=dry_run)


def find_volunteer(pk: int, user, text: str) -> int:
    """A volunteer of the set's area by id, full ID number, phone or exact name."""
    return _one_volunteer(volunteers(get_set(pk, user)), text, "本排班辖区内")


def _one_volunteer(qs, text: str, where: str) -> int:
    text = (text or "").strip()
    if text.isdigit() and len(text) < 11:
        hits = list(qs.filter(pk=int(text)).values_list("pk", flat=True))
    else:
        hits = list(
            qs.filter(id_number=text.upper()).values_list("pk", flat=True)
            or qs.filter(phone=text).values_list("pk", flat=True)
            or qs.filter(name=text).values_list("pk", flat=True)
        )
    if not hits:
        raise NotFound(f"{where}没有志愿者“{text}”")
    if len(hits) > 1:
        raise Invalid(f"有 {len(hits)} 名志愿者叫“{text}”，请用身份证号码或编号")
    return hits[0]


def sites_of(pk: int, user):
    return sites(get_set(pk, user))


def plan_file(
    user,
    *,
    org_code: str | None = None,
    set_id: int | None = None,
    path=None,
    name: str | None = None,
    title: str | None = None,
    max_km=5.0,
    max_shifts=1,
    dry_run: bool = False,
) -> Outcome:
    """The command line's use case: a new set for ``org_code`` (or the existing ``set_id``),
    its demand replaced by the file at ``path`` when given, then planned. One transaction:
    a bad file or a dry run leaves nothing behind."""
    from tongban.services.dispatch_demand import create_set, import_file

    with transaction.atomic():
        if set_id is not None:
            ds = get_set(set_id, user)
        elif org_code:
            if path is None:
                raise Invalid("新建排班需求时请给出需求文件")
            label = title or (name or str(path)).rsplit("/", 1)[-1].rsplit(".", 1)[0]
            ds = create_set(user, org_code, label, max_km, max_shifts)
        else:
            raise Invalid("请指定组织单位（--org）或已有的排班需求（--set）")
        if path is not None:
            import_file(ds.pk, user, path, name)
        out = _run(ds.pk, user, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)
    return out


def sets_with(user, text: str) -> tuple[int, list[int]]:
    """A volunteer (id, full ID number, phone or exact name) in the user's area, and the
    demand sets whose current plan assigns them."""
    from tongban.services.dispatch_demand import demand_sets

    qs = VolunteerProfile.objects.all()
    if user is not None:
        qs = qs.visible_to(user)
    vid = _one_volunteer(qs, text, "您辖区内")
    out = []
    for ds in demand_sets(user).order_by("pk"):
        plan = current_plan(ds)
        if plan and plan.assignments.filter(volunteer_id=vid).exists():
            out.append(ds.pk)
    return vid, out
