"""Working calendar and time limits (办理时限).

A `Duration` is what a matter declares ("1个工作日", "4个工作小时", "10分钟", "3天");
`WorkCalendar.add(start, duration)` turns it into a deadline. The calendar knows which
dates are working days from *overrides* (statutory holidays that fall on Monday–Friday,
make-up working days "调休" on weekends) layered on a Monday–Friday default. The overrides
are authoritative only for `covered_years`; any other year still works (Monday–Friday) but
raises a `CalendarCoverageWarning` once per year and is recorded in
`WorkCalendar.uncovered_years_seen`, so a UI can say "2027年节假日安排尚未录入，按周一至周五计算".

Counting rules (see `WorkCalendar.add` for the details):

* working days — the day of receipt does not count (期间开始之日不计算在内): *n* working days
  end at the close of business (`day_end`) of the *n*-th working day after the calendar
  date of `start`, whatever the time of day and whether or not that date is a working day.
* working hours — walk forward through the working windows [day_start, day_end].
* minutes — natural (elapsed) minutes; days — natural calendar days.

Pure standard library plus `chinese_calendar`; no Django.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from tongban.engine.calendar_seed import (
    HOLIDAY_NAMES_ZH,
    _supported,
    _supported_years,
    seed_from_chinese_calendar,
)

__all__ = [
    "CalendarCoverageWarning",
    "Duration",
    "WorkCalendar",
    "seed_from_chinese_calendar",
]

_REEXPORTED = (HOLIDAY_NAMES_ZH, _supported, _supported_years)  # of the old single module

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)

UNIT_LABELS_ZH = {
    "working_days": "个工作日",
    "working_hours": "个工作小时",
    "minutes": "分钟",
    "days": "天",
}


class CalendarCoverageWarning(UserWarning):
    """A date was looked up in a year whose holiday arrangement has not been entered."""


def _format_amount(amount: float) -> str:
    if amount == int(amount):
        return str(int(amount))
    return f"{amount:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Duration:
    """A time limit as a matter declares it: an amount and a unit.

    Units: ``working_days``, ``working_hours``, ``minutes`` (natural minutes) and ``days``
    (natural calendar days). The amount may be fractional and must be finite and ≥ 0.
    """

    amount: float
    unit: str

    UNITS: ClassVar[tuple[str, ...]] = tuple(UNIT_LABELS_ZH)

    def __post_init__(self) -> None:
        if self.unit not in UNIT_LABELS_ZH:
            raise ValueError(f"未知的时限单位 {self.unit!r}，应为 {', '.join(self.UNITS)} 之一")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int | float):
            raise TypeError(f"时限数量必须是数字，收到 {self.amount!r}")
        if not math.isfinite(self.amount) or self.amount < 0:
            raise ValueError(f"时限数量必须是非负有限数，收到 {self.amount!r}")

    def label_zh(self) -> str:
        """ "1个工作日", "4个工作小时", "0.5个工作日", "10分钟", "3天"."""
        return f"{_format_amount(self.amount)}{UNIT_LABELS_ZH[self.unit]}"


class WorkCalendar:
    """Which days are working days, the working hours, and deadline arithmetic.

    ``overrides`` maps a date to True (working day) or False (day off) and beats the
    Monday–Friday default; ``covered_years`` are the years whose overrides are complete.
    All datetimes in and out are timezone-aware; inputs are converted to ``tz`` and naive
    datetimes are rejected with ValueError.

    One instance may be shared (see `default`); its only mutable state is
    ``uncovered_years_seen``, which only ever grows.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool],
        covered_years: frozenset[int] | Iterable[int],
        day_start: time = time(8, 30),
        day_end: time = time(17, 30),
        tz: ZoneInfo = SHANGHAI,
        *,
        holiday_names: Mapping[date, str] | None = None,
    ) -> None:
        if day_start.tzinfo is not None or day_end.tzinfo is not None:
            raise ValueError("day_start/day_end must be naive wall-clock times in tz")
        if not day_start < day_end:
            raise ValueError(f"day_start {day_start} must be before day_end {day_end}")
        self.overrides: dict[date, bool] = {_plain_date(d): bool(v) for d, v in overrides.items()}
        self.covered_years: frozenset[int] = frozenset(covered_years)
        self.day_start = day_start
        self.day_end = day_end
        self.tz = tz
        self.holiday_names: dict[date, str] = dict(holiday_names or {})
        self.uncovered_years_seen: set[int] = set()
        self.working_day_length: timedelta = datetime.combine(date.min, day_end) - datetime.combine(
            date.min, day_start
        )

    def __repr__(self) -> str:
        years = sorted(self.covered_years)
        span = f"{years[0]}–{years[-1]}" if years else "none"
        return (
            f"WorkCalendar({len(self.overrides)} overrides, covered {span}, "
            f"{self.day_start:%H:%M}–{self.day_end:%H:%M} {self.tz})"
        )

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_chinese_calendar(cls, years: Iterable[int] | None = None, **kwargs) -> WorkCalendar:
        """A fresh (uncached) calendar seeded from the `chinese_calendar` package."""
        overrides, covered, names = seed_from_chinese_calendar(years)
        return cls(overrides, covered, holiday_names=names, **kwargs)

    @classmethod
    @functools.lru_cache(maxsize=1)
    def default(cls) -> WorkCalendar:
        """The shared calendar seeded from `chinese_calendar`, 8:30–17:30 Asia/Shanghai."""
        return cls.from_chinese_calendar()

    # -- days ---------------------------------------------------------------------------

    @property
    def hours_per_day(self) -> float:
        return self.working_day_length.total_seconds() / 3600

    def is_covered(self, year: int) -> bool:
        return year in self.covered_years

    def is_workday(self, d: date) -> bool:
        """Override if present, else Monday–Friday.

        Never raises for a year outside ``covered_years``: it answers Monday–Friday (or the
        override, if one was entered anyway), records the year in ``uncovered_years_seen``
        and warns with `CalendarCoverageWarning` the first time that year is seen.
        """
        d = self._as_date(d)
        if d.year not in self.covered_years and d.year not in self.uncovered_years_seen:
            self.uncovered_years_seen.add(d.year)
            warnings.warn(
                self.coverage_notice_zh(d.year),
                CalendarCoverageWarning,
                skip_file_prefixes=(__file__,),
            )
        found = self.overrides.get(d)
        if found is not None:
            return found
        return d.weekday() < 5

    def holiday_name(self, d: date) -> str | None:
        """The statutory holiday covering ``d`` ("春节"), if the seed knew one."""
        return self.holiday_names.get(self._as_date(d))

    @staticmethod
    def coverage_notice_zh(year: int) -> str:
        return f"{year}年节假日安排尚未录入，按周一至周五计算"

    def coverage_notices_zh(self) -> list[str]:
        """One notice per uncovered year this calendar has been asked about, oldest first."""
        return [self.coverage_notice_zh(y) for y in sorted(self.uncovered_years_seen)]

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = self._as_date(d) + ONE_DAY
        while not self.is_workday(d):
            d += ONE_DAY
        return d

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        d = self._as_date(d) - ONE_DAY
        while not self.is_workday(d):
            d -= ONE_DAY
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in the half-open range (a, b]: ``a`` (day of receipt) does not count.

        Consistent with `add`: for whole n, ``working_days_between(start_date,
        add(start, Duration(n, "working_days")).date()) == n``. Antisymmetric: b < a gives
        the negative count of (b, a]; a == b gives 0.
        """
        a, b = self._as_date(a), self._as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        d = a + ONE_DAY
        while d <= b:
            count += self.is_workday(d)
            d += ONE_DAY
        return count

    # -- instants -----------------------------------------------------------------------

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The deadline for a limit of ``duration`` that starts at ``start``.

        Returned in ``tz``. An amount of 0 returns ``start`` itself (converted to ``tz``).

        * ``working_days``, whole n ≥ 1: the day of receipt does not count. The deadline is
          ``day_end`` of the n-th working day strictly after the calendar date of ``start``
          in ``tz`` — regardless of the time of day and of whether that date is a working
          day. Submitted Friday 16:00 before a holiday, 1 working day → 17:30 on the first
          working day after the holiday; submitted on a Saturday, 1 working day → Monday
          17:30 (if Monday is a working day).
        * ``working_days``, fractional n = k + f:
            - n < 1 ("半个工作日" = 0.5): n × hours_per_day *working hours* from ``start``
              (so a half-day limit received Monday 09:00 ends Monday 13:30);
            - n > 1: the whole-day deadline for k, then f × hours_per_day working hours
              more (1.5 → 13:00 on the second working day after receipt).
          This keeps the deadline non-decreasing in n (anything < 1 ends before the
          1-working-day deadline).
        * ``working_hours`` h: walk forward through the windows [day_start, day_end] of
          working days, starting at ``start``; a start outside working hours begins at the
          next window's start. A walk that uses up a window exactly ends at that window's
          ``day_end`` (not at the next morning). Fractional hours are fine.
        * ``minutes``: natural elapsed minutes, ``start + n minutes``.
        * ``days``: natural calendar days: the same wall-clock time n days later in ``tz``
          (fractional days add the fraction of 24 hours).

        Sub-microsecond remainders are rounded *up*, so a positive limit never ends before
        it starts, and a positive minutes/days limit always ends strictly after ``start``.
        """
        start = self._aware(start)
        amount = duration.amount
        if amount == 0:
            return start
        match duration.unit:
            case "minutes":
                return (start.astimezone(UTC) + _micros(amount * 60)).astimezone(self.tz)
            case "days":
                local = start.replace(tzinfo=None) + _micros(amount * 86400)
                return local.replace(tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)
            case "working_hours":
                return self._add_working(start, _micros(amount * 3600))
            case "working_days":
                per_day = self.working_day_length.total_seconds()
                if amount < 1:
                    return self._add_working(start, _micros(amount * per_day))
                whole = math.floor(amount)
                d = start.date()
                for _ in range(whole):
                    d = self.next_workday(d)
                end = datetime.combine(d, self.day_end, tzinfo=self.tz)
                if amount > whole:
                    end = self._add_working(end, _micros((amount - whole) * per_day))
                return end
        raise AssertionError(duration.unit)  # pragma: no cover - Duration validates units

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        """Working time between two instants, in seconds (for statistics).

        The overlap of [a, b] with the working windows of working days. Antisymmetric:
        b < a gives the negated value.
        """
        a, b = self._aware(a), self._aware(b)
        if b < a:
            return -self.working_seconds_between(b, a)
        total = timedelta(0)
        a_utc, b_utc = a.astimezone(UTC), b.astimezone(UTC)
        d, last = a.date(), b.date()
        while d <= last:
            if self.is_workday(d):
                ws, we = self._window(d)
                lo, hi = max(ws, a_utc), min(we, b_utc)
                if hi > lo:
                    total += hi - lo
            d += ONE_DAY
        return total.total_seconds()

    # -- internals ----------------------------------------------------------------------

    def _window(self, d: date) -> tuple[datetime, datetime]:
        """Working window of ``d`` as UTC instants (arithmetic in UTC is DST-safe)."""
        return (
            datetime.combine(d, self.day_start, tzinfo=self.tz).astimezone(UTC),
            datetime.combine(d, self.day_end, tzinfo=self.tz).astimezone(UTC),
        )

    def _add_working(self, start: datetime, remaining: timedelta) -> datetime:
        """Walk ``remaining`` working time forward from ``start`` (aware, in tz)."""
        if remaining <= timedelta(0):
            return start
        cursor = start.astimezone(UTC)
        d = start.date()
        while True:
            if self.is_workday(d):
                ws, we = self._window(d)
                begin = max(cursor, ws)
                if begin < we:
                    available = we - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(self.tz)
                    remaining -= available
            d += ONE_DAY

    def _aware(self, dt: datetime) -> datetime:
        if not isinstance(dt, datetime):
            raise TypeError(f"expected a datetime, got {type(dt).__name__}")
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"naive datetime {dt!r}: WorkCalendar needs timezone-aware times")
        return dt.astimezone(self.tz)

    def _as_date(self, d: date) -> date:
        """Dates pass through; an aware datetime becomes its calendar date in tz."""
        if isinstance(d, datetime):
            return self._aware(d).date()
        return d


def _plain_date(d: date) -> date:
    if isinstance(d, datetime):
        raise TypeError(f"override keys must be dates, not datetimes: {d!r}")
    return d


def _micros(seconds: float) -> timedelta:
    """``seconds`` as a timedelta, rounded up to the next whole microsecond."""
    return timedelta(microseconds=math.ceil(seconds * 1_000_000))
