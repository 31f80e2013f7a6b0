"""Worklists: the cases a staff member can act on now, by tab, sorted by deadline.

A worklist is one query: per seat (role at an org) the cases pending for that role in that
org's subtree, each an exact match on an index (pending_role, j_<level>, deadline); a
countersigner's seat adds a branch per countersign state. One branch reads its first page
straight off its index, however many cases wait. Several branches ORed together cannot:
PostgreSQL then collects every matching case and sorts them all (a bitmap OR), which grows
with the worklist (bench/web.py: a three-seat worklist of 12 000 cases took 320 ms). So a
page of a several-branch worklist on PostgreSQL is read in two steps: each branch's first
`offset + limit` cases in deadline order (an index scan that stops early), then the page
among those ids (see `Worklist`). The cases, their order and the pages are the same as the
plain query's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import connections
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from tongban.services import catalog
from tongban.store.models import Case, Event, MatterVersion, Membership
from tongban.store.queries import CaseQuerySet

TABS = {"todo": "待办", "done": "已办", "soon": "即将超期", "overdue": "超期"}
SIGN = "@sign"  # pending_role of countersign states (several roles at once)
SOON = timedelta(hours=24)
ORDER = ("deadline", "pk")  # a worklist's order: soonest deadline first (none last)
# Columns a list of cases never shows: not read (a case page loads its case anew).
UNLISTED = ("data", "materials", "signatures", "visited")


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


@lru_cache(maxsize=64)
def _countersign_states(versions: tuple[tuple[int, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """(matter code, state, role) of every countersign state of these matter versions,
    given as (id, digest) in catalogue order. A version never changes (a changed file is a
    new version), so the answer is kept: a worklist need not read every spec each time."""
    rows = {v.pk: v for v in MatterVersion.objects.filter(pk__in=[pk for pk, _ in versions])}
    out = []
    for pk, _ in versions:
        if pk not in rows:  # deleted since it was listed: not current any more
            continue
        spec = catalog.spec_of(rows[pk])
        for name, st in spec.workflow.states.items():
            for role in st.sign.roles if st.sign else ():
                out.append((spec.code, name, role))
    return tuple(out)


def _sign_states(roles: set[str]) -> list[tuple[str, str, str]]:
    """(matter code, state, role) for countersign states in which one of `roles` signs."""
    current = MatterVersion.objects.filter(current=True, kind="matter").order_by("category", "code")
    versions = tuple(current.values_list("pk", "digest"))
    return [s for s in _countersign_states(versions) if s[2] in roles]


def _branches(my_seats: list[Seat]) -> list[Q]:
    """One condition per way a case can wait for these seats (ORed, they are the worklist)."""
    out = []
    signing = _sign_states({s.role for s in my_seats})
    for s in my_seats:
        where = Q(**{f"j_{s.level}": s.code}) & (Q(pending_level="") | Q(pending_level=s.level))
        out.append(Q(pending_role=s.role) & where)
        for matter, state, role in signing:
            if role == s.role:
                out.append(Q(pending_role=SIGN, matter_code=matter, state=state) & where)
    return out


def _handler_q(user) -> Q:
    # A case handed to a named handler (转交) waits for that handler only.
    return Q(handler__isnull=True) | Q(handler_id=user.pk)


def _or(branches: list[Q]) -> Q:
    q = Q(pk__in=[])
    for b in branches:
        q |= b
    return q


def pending_q(user, my_seats: list[Seat]) -> Q:
    """Cases waiting for this user: their role, their jurisdiction, the step's level."""
    return _or(_branches(my_seats)) & _handler_q(user)


class Worklist(CaseQuerySet):
    """The queryset `worklist()` returns. Its branches (each already carrying the tab's,
    matter's and state's conditions) let a page of it be read, on PostgreSQL, branch by
    branch: each branch's first `stop` cases in deadline order (an index scan cut short),
    then the page's ids among those (the global first `stop` are among them), then those
    cases. Any derived queryset (filter, order_by, count, …) forgets the branches and is
    the ordinary query, so nothing can make the branches disagree with the query."""

    _branches: tuple[Q, ...] = ()

    def __getitem__(self, k):
        if (
            isinstance(k, slice)
            and k.stop is not None
            and k.step is None
            and len(self._branches) > 1
            and self._result_cache is None
            and self.query.order_by == ORDER
            and self.query.can_filter()
            and connections[self.db].vendor == "postgresql"
        ):
            start = k.start or 0
            stop = max(k.stop, start)
            parts, params = [], []
            for b in self._branches:
                top = QuerySet(self.model, using=self.db).filter(b).order_by(*ORDER)
                sql, p = top.values_list("pk", "deadline")[:stop].query.sql_with_params()
                parts.append(f"({sql})")
                params.extend(p)
            # UNION, not UNION ALL: a case two branches share is one row of the page
            page = RawSQL(
                f"SELECT u.id FROM ({' UNION '.join(parts)}) AS u (id, deadline)"
                " ORDER BY u.deadline, u.id LIMIT %s OFFSET %s",
                (*params, stop - start, start),
            )
            return self.filter(pk__in=page)[: stop - start]
        return super().__getitem__(k)


def worklist(
    user,
    tab: str = "todo",
    *,
    matter: str | None = None,
    state: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Case]:
    now = now or timezone.now()
    # The matter versions once each (not one wide row per case, its YAML source unread);
    # the list shows none of the case's JSON columns.
    versions = Prefetch("matter", queryset=MatterVersion.objects.defer("source"))
    if tab == "done":
        mine = Event.objects.filter(case_id=OuterRef("pk"), actor_id=user.pk)
        qs = Case.objects.filter(Exists(mine)).order_by("-updated_at")
        if matter:
            qs = qs.filter(matter_code=matter)
        if state:
            qs = qs.filter(state=state)
        return qs.select_related("org").prefetch_related(versions).defer(*UNLISTED)
    where = _handler_q(user)
    if tab == "soon":
        where &= Q(deadline__gte=now, deadline__lt=now + SOON)
    elif tab == "overdue":
        where &= Q(deadline__lt=now)
    if matter:
        where &= Q(matter_code=matter)
    if state:
        where &= Q(state=state)
    branches = _branches(seats(user))
    qs = (
        Worklist(Case)
        .filter(_or(branches) & where)
        .order_by(*ORDER)
        .select_related("org")
        .prefetch_related(versions)
        .defer(*UNLISTED)
    )
    qs._branches = tuple(b & where for b in branches)  # last: a clone would not keep them
    return qs


def counts(user, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    base = Case.objects.filter(pending_q(user, seats(user)))
    return {
        "todo": base.count(),
        "soon": base.filter(deadline__gte=now, deadline__lt=now + SOON).count(),
        "overdue": base.filter(deadline__lt=now).count(),
    }
