"""Supervision statistics (督办统计): read-only queries over the cases in a jurisdiction.

A *scope* is where the user supervises: the org subtrees where they hold the role
`supervisor` or `head`, optionally narrowed to one org inside them. A *period* is a range of
calendar days in Asia/Shanghai. The figures count the cases *submitted* in the period (one
cohort, so submitted = completed + refused + withdrawn + closed + open); the overdue list is
what is late *now*, whatever the period.

Everything is counted by the database (values().annotate(Count)); only the average handling
time walks rows, because working time needs the holiday calendar (capped at HANDLING_SAMPLE).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from tongban.services import calendar, catalog
from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.store.choices import LEVELS
from tongban.store.models import Case, Event, MatterVersion, Membership, Org, Rating

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUPERVISING_ROLES = ("supervisor", "head")
DEFAULT_DAYS = 30
MAX_DAYS = 366
MIN_YEAR, MAX_YEAR = 1949, 2999
HANDLING_SAMPLE = 5000  # completed cases whose working time is summed (the latest closed)
ORG_CHOICES_LIMIT = 500
RATING_LEVELS = tuple(Rating.LEVELS)  # ((5, "非常满意"), … (1, "非常不满意"))
SATISFIED = 4  # 满意 and 非常满意
OUTCOME_LABELS = {
    "completed": "办结",
    "refused": "不予受理/不予许可",
    "withdrawn": "已撤回",
    "closed": "已关闭",
    "": "办理中",
}
NO_SCOPE = "只有督办员或单位负责人可以查看督办统计"
ORG_OUTSIDE = "该单位不存在，或不在您的督办范围内"

# A completed case was on time when it never went overdue and closed by the promised date.
ON_TIME = Q(outcome="completed", ever_overdue=False) & (
    Q(due_at__isnull=True) | Q(closed_at__lte=F("due_at"))
)


# -- period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Calendar days [start, end] in Asia/Shanghai, both included."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=SHANGHAI)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=SHANGHAI)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


def today() -> date:
    return timezone.now().astimezone(SHANGHAI).date()


def _date(raw: str | None, name: str, label: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise Invalid(
            f"{label}格式不对，应为 年-月-日（例如 2026-03-01）", {name: "日期格式应为 YYYY-MM-DD"}
        ) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise Invalid(f"{label}超出范围", {name: f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间"})
    return value


def period(
    start: str | date | None = None, end: str | date | None = None, *, on: date | None = None
) -> Period:
    """The period from the filter values; default: the last 30 days up to today (`on`)."""
    start = start if isinstance(start, date) else _date(start, "from", "开始日期")
    end = end if isinstance(end, date) else _date(end, "to", "结束日期")
    if end is None:
        end = on or today()
        if start is not None and start > end:
            end = start
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Invalid(
            "开始日期不能晚于结束日期", {"from": "应早于或等于结束日期", "to": "应晚于开始日期"}
        )
    result = Period(start, end)
    if result.days > MAX_DAYS:
        raise Invalid(
            f"统计期间最长 {MAX_DAYS} 天（所选 {result.days} 天），请缩短期间",
            {"from": f"期间不超过 {MAX_DAYS} 天"},
        )
    return result


# -- scope --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where a user supervises (`roots`) and the org chosen inside it (`org`, or None)."""

    user_id: int
    roots: tuple[Org, ...]
    org: Org | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def focus(self) -> tuple[Org, ...]:
        """The orgs the figures are about: the chosen one, or every root."""
        return (self.org,) if self.org is not None else self.roots

    def q(self) -> Q:
        """Cases in the scope: exact matches on the indexed j_<level> columns."""
        q = Q(pk__in=[])
        for org in self.focus:
            q |= Q(**{f"j_{org.level}": org.code})
        return q

    def contains(self, org: Org) -> bool:
        return any(org.path == r.path or org.path.startswith(r.path + "/") for r in self.roots)

    @property
    def label(self) -> str:
        return "、".join(o.name for o in self.focus)


def _minimal(orgs: list[Org]) -> tuple[Org, ...]:
    """Drop orgs that lie inside another one of the list."""
    ordered = sorted({o.pk: o for o in orgs}.values(), key=lambda o: o.path)
    out: list[Org] = []
    for o in ordered:
        if not any(o.path.startswith(r.path + "/") for r in out):
            out.append(o)
    return tuple(out)


def supervises(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and Membership.objects.filter(user_id=user.pk, role__in=SUPERVISING_ROLES).exists()
    )


def scope_for(user, org_code: str | None = None) -> Scope:
    """The user's supervision scope, narrowed to `org_code` when given.

    Forbidden for users without a supervisor/head role; NotFound for an org that does not
    exist or lies outside the scope (the answer does not tell which)."""
    rows = list(
        Membership.objects.filter(user_id=user.pk, role__in=SUPERVISING_ROLES).select_related("org")
    )
    if not rows:
        raise Forbidden(NO_SCOPE)
    roots = _minimal([m.org for m in rows])
    roles = frozenset(m.role for m in rows)
    org_code = (org_code or "").strip()
    chosen = None
    if org_code:
        chosen = Org.objects.filter(code=org_code).first()
        if chosen is None or not any(
            chosen.path == r.path or chosen.path.startswith(r.path + "/") for r in roots
        ):
            raise NotFound(ORG_OUTSIDE)
    elif len(roots) == 1:
        chosen = roots[0]
    return Scope(user.pk, roots, chosen, roles)


def org_choices(scope: Scope) -> list[dict]:
    """Orgs a user may filter to (down to the community level), in tree order."""
    q = Q(pk__in=[])
    for r in scope.roots:
        q |= Q(pk=r.pk) | Q(path__startswith=r.path + "/")
    rows = (
        Org.objects.filter(q)
        .exclude(level="grid")
        .order_by("path")
        .values("code", "name", "path", "level")[:ORG_CHOICES_LIMIT]
    )
    top = min((r.path.count("/") for r in scope.roots), default=0)
    return [
        {"code": o["code"], "name": o["name"], "depth": o["path"].count("/") - top} for o in rows
    ]


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


# -- overdue ------------------------------------------------------------------------------


def overdue(scope: Scope, now: datetime | None = None) -> QuerySet[Case]:
    """Open cases in the scope past their step deadline, the latest first."""
    now = now or timezone.now()
    return (
        Case.objects.filter(scope.q(), outcome="", deadline__lt=now)
        .order_by("deadline", "pk")
        .select_related("matter", "org", "handler")
    )


def pending_org_code(case: Case) -> str:
    """The org where the case's current step sits: its ancestor at the step's level."""
    if case.pending_level:
        code = getattr(case, f"j_{case.pending_level}", "")
        if code:
            return code
    return case.org.code


def overdue_rows(
    scope: Scope, now: datetime | None = None, *, offset: int = 0, limit: int = 50
) -> list[dict]:
    """A page of the overdue list, with how late each case is and its escalations so far."""
    now = now or timezone.now()
    cal = calendar.current()
    cases = list(overdue(scope, now)[offset : offset + limit])
    ids = [c.pk for c in cases]
    escalations = {
        r["case_id"]: r
        for r in Event.objects.filter(case_id__in=ids, kind="escalated")
        .values("case_id")
        .annotate(n=Count("pk"), last=Max("at"))
        .order_by()
    }
    units = dict(
        Org.objects.filter(code__in={pending_org_code(c) for c in cases}).values_list(
            "code", "name"
        )
    )
    rows = []
    for c in cases:
        st = catalog.spec_of(c.matter).workflow.states.get(c.state)
        late = now - c.deadline
        handler = ""
        if c.handler_id:
            handler = c.handler.get_full_name() or c.handler.get_username()
        esc = escalations.get(c.pk, {})
        rows.append(
            {
                "case": c,
                "id": c.pk,
                "matter": c.matter.name,
                "state": st.label if st else c.state,
                "org": c.org.name,
                "unit": units.get(pending_org_code(c), ""),
                "handler": handler,
                "deadline": c.deadline,
                "late_hours": round(cal.working_seconds_between(c.deadline, now) / 3600, 1),
                "late_days": late.days,
                "late_text": _late_text(late),
                "escalations": esc.get("n", 0),
                "last_escalated": esc.get("last"),
            }
        )
    return rows


def _late_text(late: timedelta) -> str:
    hours = int(late.total_seconds() // 3600)
    if hours < 1:
        return f"{max(1, int(late.total_seconds() // 60))} 分钟"
    if hours < 24:
        return f"{hours} 小时"
    return f"{hours // 24} 天 {hours % 24} 小时"


# -- everything for a page or an export ---------------------------------------------------


@dataclass
class Report:
    scope: Scope
    period: Period
    summary: dict
    handling: dict
    matters: list[dict]
    states: list[dict]
    state_labels: list[dict]
    orgs: list[dict]
    satisfaction: dict
    overdue_total: int

    def chart_data(self) -> dict:
        """What the ECharts script needs (JSON-safe)."""
        return {
            "matters": {
                "names": [m["name"] for m in self.matters],
                "total": [m["total"] for m in self.matters],
                "completed": [m["completed"] for m in self.matters],
                "open": [m["open"] for m in self.matters],
            },
            "states": [{"name": s["label"], "value": s["n"]} for s in self.state_labels],
            "orgs": {
                "names": [o["name"] for o in self.orgs],
                "total": [o["total"] for o in self.orgs],
                "completed": [o["completed"] for o in self.orgs],
                "ever_overdue": [o["ever_overdue"] for o in self.orgs],
            },
            "satisfaction": {
                "names": [x["label"] for x in self.satisfaction["levels"]],
                "values": [x["n"] for x in self.satisfaction["levels"]],
            },
        }


def report(scope: Scope, p: Period, now: datetime | None = None) -> Report:
    now = now or timezone.now()
    hours = handling(scope, p)
    states = by_state(scope, p)
    return Report(
        scope=scope,
        period=p,
        summary=summary(scope, p, now),
        handling=hours,
        matters=by_matter(scope, p, hours["by_matter"]),
        states=states,
        state_labels=by_state_label(states),
        orgs=by_org(scope, p),
        satisfaction=satisfaction(scope, p),
        overdue_total=overdue(scope, now).count(),
    )
