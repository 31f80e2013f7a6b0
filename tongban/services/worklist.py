"""Worklists: the cases a staff member can act on now, by tab, sorted by deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from tongban.services import catalog
from tongban.store.models import Case, Event, Membership

TABS = {"todo": "待办", "done": "已办", "soon": "即将超期", "overdue": "超期"}
SIGN = "@sign"  # pending_role of countersign states (several roles at once)
SOON = timedelta(hours=24)


@dataclass(frozen=True)
class Seat:
    role: str
    level: str
    code: str


def seats(user) -> list[Seat]:
    return [
        Seat(r, lvl, c)
        for r, lvl, c in Membership.objects.filter(user_id=user.pk).values_list(
            "role", "org__level", "org__code"
        )
    ]


def _sign_states(roles: set[str]) -> list[tuple[str, str, str]]:
    """(matter code, state, role) for countersign states in which one of `roles` signs."""
    out = []
    for version in catalog.current_versions():
        spec = catalog.spec_of(version)
        for name, st in spec.workflow.states.items():
            for role in st.sign.roles if st.sign else ():
                if role in roles:
                    out.append((spec.code, name, role))
    return out


def pending_q(user, my_seats: list[Seat]) -> Q:
    """Cases waiting for this user: their role, their jurisdiction, the step's level."""
    q = Q(pk__in=[])
    signing = _sign_states({s.role for s in my_seats})
    for s in my_seats:
        where = Q(**{f"j_{s.level}": s.code}) & (Q(pending_level="") | Q(pending_level=s.level))
        q |= Q(pending_role=s.role) & where
        for matter, state, role in signing:
            if role == s.role:
                q |= Q(pending_role=SIGN, matter_code=matter, state=state) & where
    # A case handed to a named handler (转交) waits for that handler only.
    return q & (Q(handler__isnull=True) | Q(handler_id=user.pk))


def worklist(
    user,
    tab: str = "todo",
    *,
    matter: str | None = None,
    state: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Case]:
    now = now or timezone.now()
    if tab == "done":
        mine = Event.objects.filter(case_id=OuterRef("pk"), actor_id=user.pk)
        qs = Case.objects.filter(Exists(mine)).order_by("-updated_at")
    else:
        qs = Case.objects.filter(pending_q(user, seats(user))).order_by("deadline", "pk")
        if tab == "soon":
            qs = qs.filter(deadline__gte=now, deadline__lt=now + SOON)
        elif tab == "overdue":
            qs = qs.filter(deadline__lt=now)
    if matter:
        qs = qs.filter(matter_code=matter)
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("matter", "org")


def counts(user, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    base = Case.objects.filter(pending_q(user, seats(user)))
    return {
        "todo": base.count(),
        "soon": base.filter(deadline__gte=now, deadline__lt=now + SOON).count(),
        "overdue": base.filter(deadline__lt=now).count(),
    }
