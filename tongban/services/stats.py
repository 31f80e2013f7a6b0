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

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from tongban.services import calendar, catalog
from tongban.services.stats_figures import (
    COUNTED,
    HANDLING_SAMPLE,
    ON_TIME,
    OUTCOME_LABELS,
    RATING_LEVELS,
    SATISFIED,
    _child_level,
    _counts,
    _matter_names,
    _rate,
    _with_rate,
    _zero,
    by_matter,
    by_org,
    by_state,
    by_state_label,
    cases_in,
    handling,
    satisfaction,
    summary,
)
from tongban.services.stats_scope import (
    DEFAULT_DAYS,
    MAX_DAYS,
    MAX_YEAR,
    MIN_YEAR,
    NO_SCOPE,
    ORG_CHOICES_LIMIT,
    ORG_OUTSIDE,
    SHANGHAI,
    SUPERVISING_ROLES,
    Period,
    Scope,
    _date,
    _minimal,
    org_choices,
    period,
    scope_for,
    supervises,
    today,
)
from tongban.store.models import Case, Event, Org

__all__ = [
    "COUNTED",
    "DEFAULT_DAYS",
    "HANDLING_SAMPLE",
    "MAX_DAYS",
    "MAX_YEAR",
    "MIN_YEAR",
    "NO_SCOPE",
    "ON_TIME",
    "ORG_CHOICES_LIMIT",
    "ORG_OUTSIDE",
    "OUTCOME_LABELS",
    "RATING_LEVELS",
    "SATISFIED",
    "SHANGHAI",
    "SUPERVISING_ROLES",
    "Period",
    "Report",
    "Scope",
    "_child_level",
    "_counts",
    "_date",
    "_matter_names",
    "_minimal",
    "_rate",
    "_with_rate",
    "_zero",
    "by_matter",
    "by_org",
    "by_state",
    "by_state_label",
    "cases_in",
    "handling",
    "org_choices",
    "overdue",
    "overdue_rows",
    "pending_org_code",
    "period",
    "report",
    "satisfaction",
    "scope_for",
    "summary",
    "supervises",
    "today",
]


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
