"""Supervision statistics: the figures about the cohort of cases submitted in a period.

Split from tongban.services.stats (which re-exports every name); see its docstring."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from tongban.services import calendar, catalog
from tongban.services.stats_scope import Period, Scope
from tongban.store.choices import LEVELS
from tongban.store.models import Case, MatterVersion, Org, Rating

HANDLING_SAMPLE = 5000  # completed cases whose working time is summed (the latest closed)
RATING_LEVELS = tuple(Rating.LEVELS)  # ((5, "非常满意"), … (1, "非常不满意"))
SATISFIED = 4  # 满意 and 非常满意
OUTCOME_LABELS = {
    "completed": "办结",
    "refused": "不予受理/不予许可",
    "withdrawn": "已撤回",
    "closed": "已关闭",
    "": "办理中",
}

# A completed case was on time when it never went overdue and closed by the promised date.
ON_TIME = Q(outcome="completed", ever_overdue=False) & (
    Q(due_at__isnull=True) | Q(closed_at__lte=F("due_at"))
)


# -- figures ------------------------------------------------------------------------------


def cases_in(scope: Scope, p: Period) -> QuerySet[Case]:
    """The cohort: cases in the scope submitted during the period."""
    return Case.objects.filter(scope.q(), submitted_at__gte=p.start_at, submitted_at__lt=p.end_at)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


COUNTED = {
    "total": None,
    "completed": Q(outcome="completed"),
    "open": Q(outcome=""),
    "on_time": ON_TIME,
    "ever_overdue": Q(ever_overdue=True),
}


def _counts(where: Q | None = None) -> dict:
    """The per-row counts, optionally limited to the cases matching `where`."""
    out = {}
    for key, cond in COUNTED.items():
        if where is not None:
            cond = where if cond is None else where & cond
        out[key] = Count("pk") if cond is None else Count("pk", filter=cond)
    return out


def _with_rate(row: dict) -> dict:
    row["on_time_rate"] = _rate(row["on_time"], row["completed"])
    return row


def summary(scope: Scope, p: Period, now: datetime | None = None) -> dict:
    """Submitted / completed / open and friends, in one aggregate query."""
    now = now or timezone.now()
    agg = cases_in(scope, p).aggregate(
        submitted=Count("pk"),
        completed=Count("pk", filter=Q(outcome="completed")),
        refused=Count("pk", filter=Q(outcome="refused")),
        withdrawn=Count("pk", filter=Q(outcome="withdrawn")),
        closed=Count("pk", filter=Q(outcome="closed")),
        open=Count("pk", filter=Q(outcome="")),
        on_time=Count("pk", filter=ON_TIME),
        ever_overdue=Count("pk", filter=Q(ever_overdue=True)),
        overdue_now=Count("pk", filter=Q(outcome="", deadline__lt=now)),
    )
    agg["on_time_rate"] = _rate(agg["on_time"], agg["completed"])
    return agg


def handling(scope: Scope, p: Period) -> dict:
    """Average working hours from submission to completion, overall and per matter.

    Working time needs the holiday calendar, so this walks the latest HANDLING_SAMPLE
    completed cases of the cohort (two timestamps each), never the whole table."""
    cal = calendar.current()
    rows = (
        cases_in(scope, p)
        .filter(outcome="completed", closed_at__isnull=False)
        .order_by("-closed_at")
        .values_list("matter_code", "submitted_at", "closed_at")[: HANDLING_SAMPLE + 1]
    )
    total, n = 0.0, 0
    per: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for i, (code, start, end) in enumerate(rows):
        if i == HANDLING_SAMPLE:
            break
        seconds = max(0.0, cal.working_seconds_between(start, end))
        total += seconds
        n += 1
        per[code][0] += seconds
        per[code][1] += 1
    return {
        "avg_hours": round(total / n / 3600, 2) if n else None,
        "cases": n,
        "sampled": len(rows) > HANDLING_SAMPLE,
        "by_matter": {c: round(s / k / 3600, 2) for c, (s, k) in per.items() if k},
    }


def _matter_names(codes) -> dict[str, str]:
    names = dict(
        MatterVersion.objects.filter(code__in=set(codes), current=True).values_list("code", "name")
    )
    missing = set(codes) - set(names)
    if missing:  # a matter no longer current keeps the name of its latest version
        for code, name in (
            MatterVersion.objects.filter(code__in=missing).order_by("code", "version")
        ).values_list("code", "name"):
            names[code] = name
    return names


def by_matter(scope: Scope, p: Period, avg_hours: dict[str, float] | None = None) -> list[dict]:
    rows = list(
        cases_in(scope, p)
        .values("matter_code")
        .annotate(**_counts())
        .order_by("-total", "matter_code")
    )
    names = _matter_names([r["matter_code"] for r in rows])
    avg_hours = avg_hours or {}
    return [
        _with_rate(
            {
                **r,
                "code": r["matter_code"],
                "name": names.get(r["matter_code"], r["matter_code"]),
                "avg_hours": avg_hours.get(r["matter_code"]),
            }
        )
        for r in rows
    ]


def by_state(scope: Scope, p: Period) -> list[dict]:
    """Cases per (matter, state), labelled from the spec of the version each case runs on."""
    rows = list(cases_in(scope, p).values("matter_id", "state").annotate(n=Count("pk")))
    versions = MatterVersion.objects.in_bulk({r["matter_id"] for r in rows})
    merged: dict[tuple[str, str], dict] = {}
    for r in rows:
        version = versions[r["matter_id"]]
        st = catalog.spec_of(version).workflow.states.get(r["state"])
        key = (version.code, r["state"])
        item = merged.setdefault(
            key,
            {
                "matter_code": version.code,
                "matter": version.name,
                "state": r["state"],
                "label": st.label if st else r["state"],
                "outcome": OUTCOME_LABELS.get(st.outcome or "", "")
                if st and st.final
                else "办理中",
                "n": 0,
            },
        )
        item["n"] += r["n"]
    return sorted(merged.values(), key=lambda x: (-x["n"], x["matter_code"], x["state"]))


def by_state_label(rows: list[dict]) -> list[dict]:
    """The per-state rows summed by label across matters (for the pie chart)."""
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[r["label"]] += r["n"]
    return [{"label": k, "n": v} for k, v in sorted(out.items(), key=lambda kv: -kv[1])]


def _child_level(org: Org) -> str | None:
    i = LEVELS.index(org.level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def by_org(scope: Scope, p: Period) -> list[dict]:
    """One row per child org of the chosen org (or per root when several), zeros included.
    Cases filed at the chosen org itself get a 「本级」 row."""
    qs = cases_in(scope, p)
    if len(scope.focus) == 1 and _child_level(scope.focus[0]):
        parent = scope.focus[0]
        column = f"j_{_child_level(parent)}"
        counted = {r[column]: r for r in qs.values(column).annotate(**_counts()).order_by()}
        children = list(Org.objects.filter(parent=parent).order_by("path"))
        rows = [{"code": o.code, "name": o.name, **_zero(counted.get(o.code))} for o in children]
        known = {o.code for o in children}
        for code, r in counted.items():
            if code == "":
                rows.insert(0, {"code": parent.code, "name": f"{parent.name}（本级）", **_zero(r)})
            elif code not in known:  # an org moved or deleted since: keep its cases visible
                rows.append({"code": code, "name": code, **_zero(r)})
        return [_with_rate(r) for r in rows]
    aggregates = {}
    for i, org in enumerate(scope.focus):
        for key, agg in _counts(Q(**{f"j_{org.level}": org.code})).items():
            aggregates[f"o{i}_{key}"] = agg
    result = qs.aggregate(**aggregates) if aggregates else {}
    return [
        _with_rate(
            {
                "code": org.code,
                "name": org.name,
                **{key: result[f"o{i}_{key}"] for key in COUNTED},
            }
        )
        for i, org in enumerate(scope.focus)
    ]


def _zero(row: dict | None) -> dict:
    return {key: (row or {}).get(key, 0) for key in COUNTED}


def satisfaction(scope: Scope, p: Period) -> dict:
    """好差评 of the cohort: the share rated 满意 or 非常满意, and all five levels."""
    counted = dict(
        Rating.objects.filter(case__in=cases_in(scope, p).values("pk"))
        .values_list("level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    total = sum(counted.values())
    satisfied = sum(n for level, n in counted.items() if level >= SATISFIED)
    return {
        "ratings": total,
        "satisfied": satisfied,
        "rate": _rate(satisfied, total),
        "levels": [
            {"level": level, "label": label, "n": counted.get(level, 0)}
            for level, label in RATING_LEVELS
        ],
    }
