"""Working calendar: property-based checks of time-limit arithmetic."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.calendar_helpers import (
    CAL,
    SH,
    at,
)
from tongban.engine.calendar import (
    CalendarCoverageWarning,
    Duration,
    WorkCalendar,
)

# -- properties ----------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([SH, UTC]),
)
# Bounded so a single example stays well under a few thousand calendar days.
amounts = {
    "working_days": st.floats(min_value=0, max_value=300, allow_nan=False),
    "working_hours": st.floats(min_value=0, max_value=2500, allow_nan=False),
    "minutes": st.floats(min_value=0, max_value=1e6, allow_nan=False),
    "days": st.floats(min_value=0, max_value=3000, allow_nan=False),
}
unit_and_two_amounts = st.sampled_from(Duration.UNITS).flatmap(
    lambda u: st.tuples(st.just(u), amounts[u], amounts[u])
)


@pytest.mark.filterwarnings("ignore::tongban.engine.calendar.CalendarCoverageWarning")
@settings(max_examples=300, deadline=None)
@given(start=starts, ua=unit_and_two_amounts)
def test_add_is_after_start_and_monotonic(start, ua):
    unit, a, b = ua
    a, b = sorted((a, b))
    end_a = CAL.add(start, Duration(a, unit))
    end_b = CAL.add(start, Duration(b, unit))
    assert end_a.tzinfo == SH
    assert end_a >= start
    if a > 0 and unit in ("minutes", "days"):
        assert end_a > start
    assert end_a <= end_b


@pytest.mark.filterwarnings("ignore::tongban.engine.calendar.CalendarCoverageWarning")
@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=300))
def test_whole_working_days_end_at_close_of_a_working_day(start, n):
    deadline = CAL.add(start, Duration(n, "working_days"))
    assert deadline.timetz() == time(17, 30, tzinfo=SH)
    assert CAL.is_workday(deadline.date())
    assert CAL.working_days_between(start.astimezone(SH).date(), deadline.date()) == n


def _inside_working_hours(d: date, offset: float) -> datetime:
    d = d if CAL.is_workday(d) else CAL.next_workday(d)
    return at(d.year, d.month, d.day, 8, 30) + timedelta(seconds=offset)


@pytest.mark.filterwarnings("ignore::tongban.engine.calendar.CalendarCoverageWarning")
@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    offset=st.floats(min_value=0, max_value=9 * 3600, exclude_max=True, allow_nan=False),
    hours=st.floats(min_value=0, max_value=2500, exclude_min=True, allow_nan=False),
)
def test_working_seconds_between_inverts_working_hours(day, offset, hours):
    start = _inside_working_hours(day, offset)
    end = CAL.add(start, Duration(hours, "working_hours"))
    assert end >= start
    assert CAL.working_seconds_between(start, end) == pytest.approx(hours * 3600, abs=2e-6)


@settings(max_examples=100, deadline=None)
@given(year=st.integers(min_value=2000, max_value=2100), d=st.integers(0, 364))
def test_never_raises_in_any_year(year, d):
    cal = WorkCalendar.default()
    day = date(year, 1, 1) + timedelta(days=d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalendarCoverageWarning)
        assert cal.is_workday(day) in (True, False)
        assert cal.next_workday(day) > day > cal.previous_workday(day)
    if year not in cal.covered_years:
        assert year in cal.uncovered_years_seen
