"""Working calendar and time limits (办理时限). Pure engine: no database, no Django."""

from __future__ import annotations

import time as _time
import warnings
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.engine.calendar import (
    CalendarCoverageWarning,
    Duration,
    WorkCalendar,
    seed_from_chinese_calendar,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.default()


def at(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def fresh() -> WorkCalendar:
    """An uncached calendar, so per-instance warning state starts empty."""
    return WorkCalendar.from_chinese_calendar()


# -- Duration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit", "label"),
    [
        (1, "working_days", "1个工作日"),
        (1.0, "working_days", "1个工作日"),
        (0.5, "working_days", "0.5个工作日"),
        (4, "working_hours", "4个工作小时"),
        (10, "minutes", "10分钟"),
        (3, "days", "3天"),
        (1.25, "working_hours", "1.25个工作小时"),
    ],
)
def test_label_zh(amount, unit, label):
    assert Duration(amount, unit).label_zh() == label


def test_duration_is_frozen_and_validated():
    d = Duration(1, "working_days")
    with pytest.raises(AttributeError):
        d.amount = 2  # type: ignore[misc]
    assert d == Duration(1.0, "working_days")
    with pytest.raises(ValueError):
        Duration(1, "weeks")
    with pytest.raises(ValueError):
        Duration(-1, "days")
    with pytest.raises(ValueError):
        Duration(float("nan"), "days")
    with pytest.raises(ValueError):
        Duration(float("inf"), "minutes")
    with pytest.raises(TypeError):
        Duration("1", "days")  # type: ignore[arg-type]


# -- seeding from chinese_calendar ---------------------------------------------------------


def test_seed_detects_range_and_names():
    overrides, covered, names = seed_from_chinese_calendar()
    assert min(covered) <= 2004 and max(covered) >= 2026
    assert covered == frozenset(range(min(covered), max(covered) + 1))
    assert 2027 not in covered or _cc_knows(2027)
    assert names[date(2026, 2, 17)] == "春节"
    assert names[date(2026, 2, 15)] == "春节"  # a Sunday inside the holiday is still named
    assert names[date(2026, 10, 5)] == "国庆节"
    assert names[date(2026, 1, 1)] == "元旦"
    assert names[date(2026, 4, 6)] == "清明节"
    assert names[date(2026, 5, 1)] == "劳动节"
    assert names[date(2026, 6, 19)] == "端午节"
    assert names[date(2026, 9, 25)] == "中秋节"
    assert date(2026, 2, 14) not in names  # a make-up working day is not a holiday
    # Only deviations from Monday–Friday are overrides.
    assert all(v == (d.weekday() >= 5) for d, v in overrides.items())


def _cc_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def test_seed_subset_of_years_ignores_unknown_years():
    overrides, covered, names = seed_from_chinese_calendar([2025, 2026, 1900])
    assert covered == {2025, 2026}
    assert {d.year for d in overrides} == {2025, 2026}
    assert {d.year for d in names} <= {2025, 2026}


def test_agrees_with_chinese_calendar_on_every_covered_day():
    cal = CAL
    d, end = date(min(cal.covered_years), 1, 1), date(max(cal.covered_years), 12, 31)
    while d <= end:
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_default_is_cached_and_fast():
    WorkCalendar.default.cache_clear()
    t = _time.perf_counter()
    cal = WorkCalendar.default()
    elapsed = _time.perf_counter() - t
    assert elapsed < 0.5
    assert WorkCalendar.default() is cal


# -- 2026 facts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "workday"),
    [
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), False),  # Friday, New Year
        (date(2026, 1, 4), True),  # Sunday, make-up day
        (date(2026, 2, 14), True),  # Saturday, make-up day
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 20), False),
        (date(2026, 2, 23), False),  # Monday, last day of Spring Festival
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up day
        (date(2026, 5, 5), False),
        (date(2026, 5, 9), True),  # Saturday, make-up day
        (date(2026, 9, 20), True),  # Sunday, make-up day
        (date(2026, 10, 1), False),
        (date(2026, 10, 5), False),  # Monday, National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up day
        (date(2026, 10, 11), False),  # ordinary Sunday
        (date(2026, 3, 4), True),  # ordinary Wednesday
    ],
)
def test_2026_arrangement(d, workday):
    assert CAL.is_workday(d) is workday
    assert CAL.is_covered(2026)


def test_spring_festival_2026_is_15_to_23_february():
    off = [date(2026, 2, day) for day in range(15, 24)]
    assert not any(CAL.is_workday(d) for d in off)
    assert all(CAL.holiday_name(d) == "春节" for d in off)
    assert CAL.holiday_name(date(2026, 2, 24)) is None


def test_next_and_previous_workday():
    assert CAL.next_workday(date(2026, 2, 13)) == date(2026, 2, 14)  # Fri → make-up Sat
    assert CAL.next_workday(date(2026, 2, 14)) == date(2026, 2, 24)
    assert CAL.previous_workday(date(2026, 2, 24)) == date(2026, 2, 14)
    assert CAL.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.previous_workday(date(2026, 10, 8)) == date(2026, 9, 30)
    assert CAL.next_workday(date(2026, 3, 6)) == date(2026, 3, 9)  # Fri → Mon
    # An aware datetime means its date in Asia/Shanghai.
    assert CAL.next_workday(datetime(2026, 3, 5, 17, 0, tzinfo=UTC)) == date(2026, 3, 9)


# -- working days --------------------------------------------------------------------------


def test_one_working_day_submitted_friday_afternoon_before_national_day():
    # 2026-09-30 is a Wednesday, the last working day before National Day; 10-01 … 10-07 off.
    start = at(2026, 9, 30, 15, 0)
    assert CAL.add(start, Duration(1, "working_days")) == at(2026, 10, 8, 17, 30)


def test_one_working_day_submitted_friday_afternoon_before_spring_festival():
    # Friday 2026-02-13 16:00 → the next working day is the make-up Saturday 02-14.
    start = at(2026, 2, 13, 16, 0)
    assert CAL.add(start, Duration(1, "working_days")) == at(2026, 2, 14, 17, 30)
    assert CAL.add(start, Duration(2, "working_days")) == at(2026, 2, 24, 17, 30)


def test_one_working_day_submitted_friday_before_labour_day():
    # Thursday 2026-04-30 16:00; 05-01 (Fri) … 05-05 off → Wednesday 05-06.
    assert CAL.add(at(2026, 4, 30, 16), Duration(1, "working_days")) == at(2026, 5, 6, 17, 30)
    # Friday 2026-06-18 before Dragon Boat (06-19 Fri … 06-21) → Monday 06-22.
    assert CAL.add(at(2026, 6, 18, 16), Duration(1, "working_days")) == at(2026, 6, 22, 17, 30)


def test_day_of_receipt_never_counts():
    one = Duration(1, "working_days")
    # Early morning, mid-day, after hours on a working day: all → end of next working day.
    for hh in (0, 7, 9, 17, 18, 23):
        assert CAL.add(at(2026, 3, 4, hh), one) == at(2026, 3, 5, 17, 30)
    # Saturday or Sunday receipt: Monday counts as the first day.
    assert CAL.add(at(2026, 3, 7, 10), one) == at(2026, 3, 9, 17, 30)
    assert CAL.add(at(2026, 3, 8, 10), one) == at(2026, 3, 9, 17, 30)
    assert CAL.add(at(2026, 3, 4, 10), Duration(5, "working_days")) == at(2026, 3, 11, 17, 30)
    assert CAL.add(at(2026, 3, 4, 10), Duration(20, "working_days")) == at(2026, 4, 1, 17, 30)


def test_input_converted_to_calendar_timezone():
    # 2026-03-04 18:00 UTC is already Thursday 02:00 in Shanghai.
    start = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    deadline = CAL.add(start, Duration(1, "working_days"))
    assert deadline == at(2026, 3, 6, 17, 30)
    assert deadline.tzinfo == SH


def test_half_a_working_day():
    half = Duration(0.5, "working_days")
    assert CAL.hours_per_day == 9
    assert CAL.add(at(2026, 3, 4, 9, 0), half) == at(2026, 3, 4, 13, 30)
    # 4.5 h from 14:00: 3.5 h today, 1 h tomorrow.
    assert CAL.add(at(2026, 3, 4, 14, 0), half) == at(2026, 3, 5, 9, 30)
    # Received before hours: counted from 08:30.
    assert CAL.add(at(2026, 3, 4, 6, 0), half) == at(2026, 3, 4, 13, 0)
    # Received Friday evening before a holiday: next working day 08:30 + 4.5 h.
    assert CAL.add(at(2026, 9, 30, 19, 0), half) == at(2026, 10, 8, 13, 0)
    assert CAL.add(at(2026, 3, 4, 9, 0), Duration(0.5, "working_days")) == CAL.add(
        at(2026, 3, 4, 9, 0), Duration(4.5, "working_hours")
    )


def test_one_and_a_half_working_days():
    # End of the first following working day, then half a day more.
    assert CAL.add(at(2026, 3, 4, 9), Duration(1.5, "working_days")) == at(2026, 3, 6, 13, 0)
    # Monotone around 1: anything below one day ends before the 1-day deadline.
    start = at(2026, 3, 4, 9)
    a = CAL.add(start, Duration(0.99, "working_days"))
    b = CAL.add(start, Duration(1, "working_days"))
    c = CAL.add(start, Duration(1.01, "working_days"))
    assert a < b < c


def test_working_days_between():
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert CAL.working_days_between(date(2026, 10, 8), date(2026, 9, 30)) == -1
    assert CAL.working_days_between(date(2026, 3, 4), date(2026, 3, 4)) == 0
    # (13 Feb, 28 Feb]: the 14th, 24th–27th and 28th.
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
    # 2026: 261 weekdays − 19 holiday weekdays + 6 make-up weekend days = 248.
    assert CAL.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


# -- working hours -------------------------------------------------------------------------


def test_working_hours_within_a_day_and_across_lunch():
    # No lunch break in the default windows: 8:30–17:30 is all working time.
    h4 = Duration(4, "working_hours")
    assert CAL.add(at(2026, 3, 4, 10, 0), h4) == at(2026, 3, 4, 14, 0)
    assert CAL.add(at(2026, 3, 4, 11, 45), Duration(1.5, "working_hours")) == at(2026, 3, 4, 13, 15)


def test_working_hours_across_the_evening():
    h4 = Duration(4, "working_hours")
    assert CAL.add(at(2026, 3, 4, 16, 0), h4) == at(2026, 3, 5, 11, 0)
    # Started after hours: begins next morning.
    assert CAL.add(at(2026, 3, 4, 20, 0), h4) == at(2026, 3, 5, 12, 30)
    # Exactly using up a window ends at 17:30, not at 08:30 the next day.
    assert CAL.add(at(2026, 3, 4, 13, 30), h4) == at(2026, 3, 4, 17, 30)
    assert CAL.add(at(2026, 3, 4, 8, 30), Duration(9, "working_hours")) == at(2026, 3, 4, 17, 30)


def test_working_hours_across_weekends_and_holidays():
    h4 = Duration(4, "working_hours")
    # Friday 16:00 → 1.5 h Friday, 2.5 h Monday.
    assert CAL.add(at(2026, 3, 6, 16, 0), h4) == at(2026, 3, 9, 11, 0)
    # Saturday → Monday morning.
    assert CAL.add(at(2026, 3, 7, 10, 0), h4) == at(2026, 3, 9, 12, 30)
    # Friday 2026-02-13 16:00 → make-up Saturday 02-14 gets the rest.
    assert CAL.add(at(2026, 2, 13, 16, 0), h4) == at(2026, 2, 14, 11, 0)
    # 30 working hours from Friday 02-13 16:00: 1.5 + 9 (Sat 14th) → 19.5 left after the
    # holiday, i.e. 2 full days (24th, 25th) and 1.5 h on the 26th.
    assert CAL.add(at(2026, 2, 13, 16, 0), Duration(30, "working_hours")) == at(2026, 2, 26, 10, 0)


def test_custom_hours_and_overrides():
    cal = WorkCalendar(
        {date(2026, 3, 9): False, date(2026, 3, 7): True},
        frozenset({2026}),
        day_start=time(9, 0),
        day_end=time(12, 0),
    )
    assert cal.hours_per_day == 3
    # Friday 11:00 → 1 h Friday, Saturday is a working override, 2 h there.
    assert cal.add(at(2026, 3, 6, 11), Duration(3, "working_hours")) == at(2026, 3, 7, 11)
    # Monday is off by override.
    assert cal.add(at(2026, 3, 7, 11), Duration(1, "working_days")) == at(2026, 3, 10, 12)
    assert cal.add(at(2026, 3, 6, 9), Duration(0.5, "working_days")) == at(2026, 3, 6, 10, 30)
    with pytest.raises(ValueError):
        WorkCalendar({}, frozenset(), day_start=time(17), day_end=time(9))


def test_working_seconds_between():
    assert CAL.working_seconds_between(at(2026, 3, 4, 9), at(2026, 3, 4, 10)) == 3600
    # Overnight counts nothing.
    assert CAL.working_seconds_between(at(2026, 3, 4, 17), at(2026, 3, 5, 9)) == 3600
    # Across the whole National Day holiday: 30 Sep 16:30 → 8 Oct 09:30 = 2 h.
    assert CAL.working_seconds_between(at(2026, 9, 30, 16, 30), at(2026, 10, 8, 9, 30)) == 7200
    assert CAL.working_seconds_between(at(2026, 3, 4, 10), at(2026, 3, 4, 9)) == -3600
    assert CAL.working_seconds_between(at(2026, 3, 7), at(2026, 3, 8, 23)) == 0


# -- natural units -------------------------------------------------------------------------


def test_ten_minute_limit_is_natural_time():
    ten = Duration(10, "minutes")
    assert CAL.add(at(2026, 3, 4, 10, 0), ten) == at(2026, 3, 4, 10, 10)
    # At night and on holidays alike.
    assert CAL.add(at(2026, 10, 3, 23, 55), ten) == at(2026, 10, 4, 0, 5)
    assert CAL.add(at(2026, 3, 4, 10, 0), Duration(0.5, "minutes")) == at(2026, 3, 4, 10, 0, 30)


def test_natural_days():
    assert CAL.add(at(2026, 9, 30, 15), Duration(3, "days")) == at(2026, 10, 3, 15)
    assert CAL.add(at(2026, 9, 30, 15), Duration(1.5, "days")) == at(2026, 10, 2, 3)


def test_zero_amount_returns_start():
    start = at(2026, 3, 4, 20)
    for unit in Duration.UNITS:
        assert CAL.add(start, Duration(0, unit)) == start


# -- aware datetimes only ------------------------------------------------------------------


def test_naive_datetimes_are_a_programming_error():
    naive = datetime(2026, 3, 4, 10)
    with pytest.raises(ValueError):
        CAL.add(naive, Duration(1, "working_days"))
    with pytest.raises(ValueError):
        CAL.working_seconds_between(naive, at(2026, 3, 5))
    with pytest.raises(ValueError):
        CAL.is_workday(naive)


# -- years without an arrangement ----------------------------------------------------------


def test_uncovered_year_falls_back_to_monday_to_friday_and_warns_once():
    cal = fresh()
    assert 2027 not in cal.covered_years
    with pytest.warns(CalendarCoverageWarning, match="2027年节假日安排尚未录入，按周一至周五计算"):
        assert cal.is_workday(date(2027, 1, 1)) is True  # a Friday: no holiday data
    assert cal.uncovered_years_seen == {2027}
    assert cal.coverage_notices_zh() == ["2027年节假日安排尚未录入，按周一至周五计算"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second lookup in 2027 must not warn again
        assert cal.is_workday(date(2027, 1, 2)) is False  # Saturday
        assert cal.is_workday(date(2027, 10, 1)) is True  # Friday
        deadline = cal.add(at(2027, 3, 5, 16), Duration(1, "working_days"))
    assert deadline == at(2027, 3, 8, 17, 30)


def test_deadline_crossing_into_an_uncovered_year():
    cal = fresh()
    with pytest.warns(CalendarCoverageWarning):
        deadline = cal.add(at(2026, 12, 31, 16), Duration(1, "working_days"))
    assert deadline == at(2027, 1, 1, 17, 30)
    assert cal.uncovered_years_seen == {2027}


def test_overrides_entered_for_an_uncovered_year_are_still_used():
    cal = WorkCalendar({date(2027, 2, 8): False}, frozenset({2026}))
    with pytest.warns(CalendarCoverageWarning):
        assert cal.is_workday(date(2027, 2, 8)) is False


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
