"""Working calendar: time limits in working days, working hours and natural units."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from tests.engine.calendar_helpers import (
    CAL,
    SH,
    at,
)
from tongban.engine.calendar import (
    Duration,
    WorkCalendar,
)

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
