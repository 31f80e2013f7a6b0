"""Rosters of a saved plan: per site and per volunteer, for the page, print and xlsx.

Phones are masked, as in every registry list and export (docs/registry.md): a site
leader calls through the community, which reveals one number at a time on the record.
"""

from __future__ import annotations

from typing import IO, Any

from tongban import dispatch as solver
from tongban.engine.validators import mask_phone
from tongban.services.dispatch import current_plan
from tongban.services.dispatch_demand import get_set
from tongban.services.errors import NotFound
from tongban.store.models import DemandSet, DispatchPlan


def plan_of(pk: int, user, plan_id: int | None = None) -> tuple[DemandSet, DispatchPlan]:
    ds = get_set(pk, user)
    plan = ds.plans.filter(pk=plan_id).first() if plan_id else current_plan(ds)
    if plan is None:
        raise NotFound("还没有排班方案")
    return ds, plan


def _rows(plan: DispatchPlan):
    return (
        plan.assignments.select_related("volunteer", "place")
        .order_by("place__name", "place_id", "shift", "role", "metres")
        .only(
            "shift",
            "role",
            "metres",
            "volunteer__name",
            "volunteer__phone",
            "place__name",
            "place__address",
            "place__place_type",
        )
    )


def roster(plan: DispatchPlan) -> dict[str, Any]:
    """``by_site``: [{place, address, shifts: [{shift, roles: [{role, people, missing,
    reason}]}]}]; ``by_volunteer``: [{name, phone, rows: [...]}] — in display order."""
    short = {(u["place_id"], u["shift"], u["role"]): u for u in plan.unfilled}
    sites: dict[int, dict] = {}
    people: dict[int, dict] = {}
    for a in _rows(plan):
        site = sites.setdefault(
            a.place_id,
            {"id": a.place_id, "place": a.place.name, "address": a.place.address, "slots": {}},
        )
        slot = site["slots"].setdefault((a.shift, a.role), [])
        slot.append(
            {
                "name": a.volunteer.name,
                "phone": mask_phone(a.volunteer.phone),
                "km": a.metres / 1000,
            }
        )
        person = people.setdefault(
            a.volunteer_id,
            {
                "id": a.volunteer_id,
                "name": a.volunteer.name,
                "phone": mask_phone(a.volunteer.phone),
                "rows": [],
            },
        )
        person["rows"].append(
            {
                "shift": a.shift,
                "place": a.place.name,
                "address": a.place.address,
                "role": a.role,
                "km": a.metres / 1000,
            }
        )
    for u in plan.unfilled:
        site = sites.setdefault(
            u["place_id"], {"id": u["place_id"], "place": u["place"], "address": "", "slots": {}}
        )
        site["slots"].setdefault((u["shift"], u["role"]), [])
    by_site = []
    for site in sorted(sites.values(), key=lambda s: s["place"]):
        rows = []
        for (shift, role), ppl in sorted(site["slots"].items()):
            u = short.get((site["id"], shift, role))
            rows.append(
                {
                    "shift": shift,
                    "role": role,
                    "people": ppl,
                    "missing": u["missing"] if u else 0,
                    "reason": u["text"] if u else "",
                }
            )
        by_site.append({"place": site["place"], "address": site["address"], "rows": rows})
    by_volunteer = sorted(people.values(), key=lambda p: (p["name"], p["id"]))
    for p in by_volunteer:
        p["rows"].sort(key=lambda r: r["shift"])
    return {"by_site": by_site, "by_volunteer": by_volunteer}


def write_xlsx(plan: DispatchPlan, out: IO[bytes] | str) -> None:
    """The rosters workbook (按站点, 按志愿者, 缺口, 汇总) of a saved plan."""
    names, phones, sites = {}, {}, {}
    assignments = []
    for a in _rows(plan):
        names[a.volunteer_id] = a.volunteer.name
        phones[a.volunteer_id] = mask_phone(a.volunteer.phone)
        sites[a.place_id] = a.place.name
        assignments.append(solver.Assignment(a.volunteer_id, a.place_id, a.shift, a.role, a.metres))
    unfilled = []
    for u in plan.unfilled:
        sites.setdefault(u["place_id"], u["place"])
        dm = solver.Demand(u["place_id"], 0.0, 0.0, u["shift"], u["role"], u["count"])
        unfilled.append(solver.Unfilled(dm, u["missing"], u["reason"], u["candidates"]))
    p = solver.Plan(tuple(assignments), tuple(unfilled))
    solver.write_rosters_xlsx(
        p, out, names, site_names=sites, phones=phones, title=f"{plan.demand_set.title} 排班表"
    )


def changes(plan: DispatchPlan) -> dict[str, list[dict[str, Any]]]:
    """What this plan changed against the one before it (empty for a first plan)."""
    prev = plan.demand_set.plans.filter(pk__lt=plan.pk).order_by("-pk").first()
    if prev is None:
        return {"added": [], "removed": []}

    def keyed(p):
        return {
            (a.volunteer_id, a.place_id, a.shift, a.role): a
            for a in p.assignments.select_related("volunteer", "place")
        }

    old, new = keyed(prev), keyed(plan)

    def row(a) -> dict[str, Any]:
        return {
            "volunteer": a.volunteer.name,
            "place": a.place.name,
            "shift": a.shift,
            "role": a.role,
            "km": a.metres / 1000,
        }

    return {
        "added": [row(new[k]) for k in sorted(new.keys() - old.keys(), key=str)],
        "removed": [row(old[k]) for k in sorted(old.keys() - new.keys(), key=str)],
    }
