"""Follow-up reports and dated reminders: file a report, and the worker's sweeps that
record missed periods and remind overdue rows — each one transaction."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tongban.engine import followups as rules
from tongban.engine.errors import Refusal
from tongban.engine.workflow import SYSTEM_ACTOR
from tongban.services import calendar, catalog
from tongban.services.cases import NOT_FOUND, apply, visible
from tongban.services.context import actor_for
from tongban.services.errors import Conflict, NotFound, from_refusal
from tongban.services.records import state_of
from tongban.store.models import Case, Event, FollowupReport, Reminder

TZ = ZoneInfo("Asia/Shanghai")


def started_at(case: Case, states: tuple[str, ...]) -> datetime:
    """When the case first entered one of `states` (the schedule's start)."""
    first = Event.objects.filter(case=case, to_state__in=states).order_by("seq").first()
    return first.at if first else case.entered_at


def current_period(case: Case, key: str, now: datetime | None = None):
    spec = catalog.spec_of(case.matter)
    fu = rules.followup(spec, key)
    return rules.period_bounds(
        fu, started_at(case, fu.while_in), now or timezone.now(), calendar.current()
    )


def submit_report(
    case_id: int, user, key: str, data: dict, now: datetime | None = None
) -> FollowupReport:
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_related("matter").filter(pk=case_id).first()
        actor = actor_for(user)
        if case is None or not visible(case, actor):
            raise NotFound(NOT_FOUND)
        spec = catalog.spec_of(case.matter)
        try:
            fu = rules.followup(spec, key)
            index, begin, end = rules.period_bounds(
                fu, started_at(case, fu.while_in), now, calendar.current()
            )
            outcome = rules.report(spec, state_of(case), actor, key, data, index)
        except Refusal as refusal:
            raise from_refusal(refusal) from None
        if FollowupReport.objects.filter(case=case, key=key, period=index, missed=False).exists():
            raise Conflict(f"本期「{fu.name}」已经提交过了")
        apply(case, spec, outcome, actor, now)
        report, _ = FollowupReport.objects.update_or_create(
            case=case,
            key=key,
            period=index,
            defaults={
                "period_start": begin,
                "due_at": end,
                "data": dict(outcome.events[0].payload["data"]),
                "submitted_at": now,
                "submitted_by": user,
                "missed": False,
            },
        )
    return report


def _cases_in(pairs: list[tuple[str, str]]):
    q = Q(pk__in=[])
    for matter, state in pairs:
        q |= Q(matter_code=matter, state=state)
    return Case.objects.filter(q, outcome="").select_related("matter")


def sweep_reports(now: datetime | None = None) -> int:
    """Record each finished period without a report as missed, once, and remind."""
    now = now or timezone.now()
    cal = calendar.current()
    pairs, specs = [], {}
    for v in catalog.current_versions():
        spec = catalog.spec_of(v)
        for fu in spec.outputs.followups:
            pairs += [(spec.code, s) for s in fu.while_in]
    marked = 0
    for case in _cases_in(pairs).iterator(chunk_size=200):
        spec = specs.setdefault(case.matter_id, catalog.spec_of(case.matter))
        for fu in spec.outputs.followups:
            if case.state not in fu.while_in:
                continue
            start = started_at(case, fu.while_in)
            index, _, _ = rules.period_bounds(fu, start, now, cal)
            known = set(
                FollowupReport.objects.filter(case=case, key=fu.key).values_list(
                    "period", flat=True
                )
            )
            begin = start
            for period in range(index):
                end = cal.add(begin, rules.duration(fu.every))
                if period not in known:
                    marked += _mark_missed(case.pk, fu.key, period, begin, end, now)
                begin = end
    return marked


def _mark_missed(case_id, key, period, begin, end, now) -> int:
    try:
        with transaction.atomic():
            case = Case.objects.select_related("matter").get(pk=case_id)
            FollowupReport.objects.create(
                case=case, key=key, period=period, period_start=begin, due_at=end, missed=True
            )
            spec = catalog.spec_of(case.matter)
            apply(
                case, spec, rules.missed(spec, state_of(case), key, period, end), SYSTEM_ACTOR, now
            )
    except IntegrityError:
        return 0  # another worker, or the report arrived meanwhile
    return 1


def sweep_reminders(now: datetime | None = None) -> int:
    now = now or timezone.now()
    today = now.astimezone(TZ).date()
    pairs = []
    for v in catalog.current_versions():
        spec = catalog.spec_of(v)
        for r in spec.outputs.reminders:
            pairs += [(spec.code, s) for s in r.while_in]
    sent = 0
    for case in _cases_in(pairs).iterator(chunk_size=200):
        spec = catalog.spec_of(case.matter)
        for r in spec.outputs.reminders:
            if case.state not in r.while_in:
                continue
            done = set(Reminder.objects.filter(case=case, key=r.key).values_list("row", flat=True))
            for row in rules.due_rows(r, case.data, today):
                if row not in done:
                    sent += _remind(case.pk, r.key, row, now)
    return sent


def _remind(case_id, key, row, now) -> int:
    try:
        with transaction.atomic():
            case = Case.objects.select_related("matter").get(pk=case_id)
            spec = catalog.spec_of(case.matter)
            r = next(x for x in spec.outputs.reminders if x.key == key)
            Reminder.objects.create(case=case, key=key, row=row, sent_at=now)
            apply(case, spec, rules.remind(spec, state_of(case), r, row), SYSTEM_ACTOR, now)
    except IntegrityError:
        return 0
    return 1
