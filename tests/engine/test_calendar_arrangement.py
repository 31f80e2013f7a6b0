"""Working calendar: durations, seeding from chinese_calendar, 2026, uncovered years."""

from __future__ import annotations

import time as _time
import warnings
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from tests.engine.calendar_helpers import (
    CAL,
    at,
    fresh,
)
from tongban.engine.calendar import (
    CalendarCoverageWarning,
    Duration,
    WorkCalendar,
    seed_from_chinese_calendar,
)

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
