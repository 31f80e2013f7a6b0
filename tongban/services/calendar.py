"""The working-day calendar from the database (seeded from chinese-calendar, edited by admins)."""

from __future__ import annotations

import time

from django.db import transaction

from tongban.engine.calendar import WorkCalendar, seed_from_chinese_calendar
from tongban.store.models import CalendarYear, Holiday

_TTL = 60.0  # an admin's edit is seen within a minute by every process
_cache: tuple[float, WorkCalendar] | None = None


def current() -> WorkCalendar:
    global _cache
    now = time.monotonic()
    if _cache is None or now - _cache[0] > _TTL:
        overrides = dict(Holiday.objects.values_list("date", "is_workday"))
        names = {d: n for d, n in Holiday.objects.values_list("date", "name") if n}
        years = frozenset(CalendarYear.objects.values_list("year", flat=True))
        _cache = (now, WorkCalendar(overrides, years, holiday_names=names))
    return _cache[1]


def invalidate() -> None:
    global _cache
    _cache = None


@transaction.atomic
def seed() -> int:
    """Copy chinese-calendar's holidays into the database for the years it knows and that
    have not been entered yet. Returns how many years were added."""
    overrides, years, names = seed_from_chinese_calendar()
    known = set(CalendarYear.objects.values_list("year", flat=True))
    new_years = sorted(set(years) - known)
    Holiday.objects.bulk_create(
        [
            Holiday(date=d, is_workday=w, name=names.get(d, "调休上班" if w else ""))
            for d, w in overrides.items()
            if d.year in new_years
        ],
        ignore_conflicts=True,
    )
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source="chinese-calendar") for y in new_years], ignore_conflicts=True
    )
    invalidate()
    return len(new_years)
