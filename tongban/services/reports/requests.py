"""诉求 dashboard (/requests/dashboard/): volume by category and by grid, response,
resolution and satisfaction rates, the most repeated problems — for the requests submitted
in a period inside the viewer's jurisdiction.

Definitions (one cohort: requests submitted in the period, merged repeats included):

* 响应率 (response rate): of the requests that reached a department (dispatched at least
  once), the share the department signed for (签收) without that step going overdue.
* 办结率 (resolution rate): completed (办结) / requests, withdrawn ones left out.
* 满意率 (satisfaction rate): 非常满意 + 满意 among the requests rated at the callback.
* 高频问题 (top recurring problems): originals with the most "me too" repeats, then the
  addresses reported most often.

Everything is counted by the database; the heat map groups by the deepest org a request
sits in (grid, else community, else street).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.fields.json import KT

from tongban.services import catalog, stats
from tongban.store.models import Case, Event, Membership, Org, RequestLink

MATTER = "citizen_request"
VIEWING_ROLES = ("supervisor", "head", "dispatcher")
NO_SCOPE = "只有督办员、单位负责人或派单员可以查看诉求统计"
SATISFIED = ("非常满意", "满意")
LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
UNCLASSIFIED = "未分类"
TOP = 10
HEAT_ROWS = 40


def may_view(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and Membership.objects.filter(user_id=user.pk, role__in=VIEWING_ROLES).exists()
    )


def scope_for(user, org_code: str | None = None) -> stats.Scope:
    """Like the supervision scope, for supervisors, heads and dispatchers."""
    return stats.scope_for(user, org_code, roles=VIEWING_ROLES, refusal=NO_SCOPE)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Dashboard:
    total: int = 0
    by_category: list[dict] = field(default_factory=list)
    heat: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)
    resolution: dict = field(default_factory=dict)
    satisfaction: dict = field(default_factory=dict)
    recurring: list[dict] = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    channels: list[dict] = field(default_factory=list)

    def chart_data(self) -> dict:
        return {
            "categories": {
                "names": [r["name"] for r in self.by_category],
                "values": [r["n"] for r in self.by_category],
            },
            "heat": self.heat,
            "satisfaction": {
                "names": list(LEVELS),
                "values": [self.satisfaction["levels"].get(x, 0) for x in LEVELS],
            },
            "rates": {
                "response": self.response["rate"],
                "resolution": self.resolution["rate"],
                "satisfaction": self.satisfaction["rate"],
            },
        }


def cohort(scope: stats.Scope, p: stats.Period):
    return stats.cases_in(scope, p).filter(matter_code=MATTER)


def dashboard(scope: stats.Scope, p: stats.Period) -> Dashboard:
    qs = cohort(scope, p)
    d = Dashboard(total=qs.count())
    d.by_category = [
        {"name": r["cat"] or UNCLASSIFIED, "n": r["n"]}
        for r in qs.annotate(cat=KT("data__category"))
        .values("cat")
        .annotate(n=Count("pk"))
        .order_by("-n", "cat")
    ]
    d.channels = [
        {"name": r["ch"] or "—", "n": r["n"]}
        for r in qs.annotate(ch=KT("data__channel"))
        .values("ch")
        .annotate(n=Count("pk"))
        .order_by("-n", "ch")
    ]
    d.heat = _heat(qs, [r["name"] for r in d.by_category])
    d.response = _response(qs)
    agg = qs.aggregate(
        counted=Count("pk", filter=~Q(outcome="withdrawn")),
        completed=Count("pk", filter=Q(outcome="completed")),
        referred=Count("pk", filter=Q(state="referred")),
        open=Count("pk", filter=Q(outcome="")),
        reopened=Count("pk", filter=Q(data__reopened=True)),
    )
    d.resolution = {**agg, "rate": _rate(agg["completed"], agg["counted"])}
    levels = {
        r["sat"]: r["n"]
        for r in qs.annotate(sat=KT("data__satisfaction"))
        .filter(sat__isnull=False)
        .values("sat")
        .annotate(n=Count("pk"))
    }
    rated = sum(levels.get(x, 0) for x in LEVELS)
    satisfied = sum(levels.get(x, 0) for x in SATISFIED)
    d.satisfaction = {
        "levels": levels,
        "rated": rated,
        "satisfied": satisfied,
        "rate": _rate(satisfied, rated),
    }
    d.recurring = _recurring(qs)
    d.places = _places(qs)
    return d


def _heat(qs, categories: list[str]) -> dict:
    """Requests per (deepest org, category): rows are the busiest orgs."""
    rows = list(
        qs.annotate(cat=KT("data__category"))
        .values("j_street", "j_community", "j_grid", "cat")
        .annotate(n=Count("pk"))
    )
    per_org: dict[str, dict[str, int]] = {}
    for r in rows:
        code = r["j_grid"] or r["j_community"] or r["j_street"] or ""
        cells = per_org.setdefault(code, {})
        name = r["cat"] or UNCLASSIFIED
        cells[name] = cells.get(name, 0) + r["n"]
    ranked = sorted(per_org.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:HEAT_ROWS]
    names = dict(
        Org.objects.filter(code__in=[c for c, _ in ranked if c]).values_list("code", "name")
    )
    orgs = [names.get(code, "（区级，未定街道）") for code, _ in ranked]
    cells = [
        [x, y, counts.get(cat, 0)]
        for y, (_, counts) in enumerate(ranked)
        for x, cat in enumerate(categories)
    ]
    peak = max((c[2] for c in cells), default=0)
    table = [
        {"org": orgs[y], "counts": [counts.get(cat, 0) for cat in categories]}
        for y, (_, counts) in enumerate(ranked)
    ]
    return {"x": categories, "y": orgs, "cells": cells, "max": peak, "table": table}


def _response(qs) -> dict:
    reached = Event.objects.filter(case_id=OuterRef("pk"), to_state="dispatched")
    signed = Event.objects.filter(case_id=OuterRef("pk"), action="accept")
    late = Event.objects.filter(case_id=OuterRef("pk"), kind="overdue", from_state="dispatched")
    agg = qs.annotate(reached=Exists(reached), signed=Exists(signed), late=Exists(late)).aggregate(
        dispatched=Count("pk", filter=Q(reached=True)),
        accepted=Count("pk", filter=Q(reached=True, signed=True)),
        on_time=Count("pk", filter=Q(reached=True, signed=True, late=False)),
    )
    return {**agg, "rate": _rate(agg["on_time"], agg["dispatched"])}


def _recurring(qs) -> list[dict]:
    from tongban.services.duplicates import COUNTS

    rows = list(
        RequestLink.objects.filter(COUNTS, original__in=qs.values("pk"))
        .values("original_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "original_id")[:TOP]
    )
    originals = {c.pk: c for c in Case.objects.filter(pk__in=[r["original_id"] for r in rows])}
    out = []
    for r in rows:
        c = originals.get(r["original_id"])
        if c is None:
            continue
        spec = catalog.spec_of(c.matter)
        out.append(
            {
                "case": c,
                "reports": r["n"] + 1,
                "category": c.data.get("category") or UNCLASSIFIED,
                "address": c.data.get("address") or "",
                "excerpt": str(c.data.get("content") or "")[:60],
                "state": spec.state(c.state).label,
            }
        )
    return out


def _places(qs) -> list[dict]:
    # Filter on the JSON key itself: comparing the KT() text with "" makes SQLite parse
    # '' as JSON ("malformed JSON").
    rows = (
        qs.filter(data__address__isnull=False)
        .exclude(data__address="")
        .annotate(addr=KT("data__address"))
        .values("addr")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .order_by("-n", "addr")[:TOP]
    )
    return [{"address": r["addr"], "n": r["n"]} for r in rows]
