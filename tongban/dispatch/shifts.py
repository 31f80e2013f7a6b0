"""Shifts ("2022-04-10 上午") and the volunteer registry's availability words.

A demand names a shift as a date and a part of the day: ``2022-04-10 上午``. The volunteer
registry records availability coarsely (``工作日白天``, ``工作日晚上``, ``周末``, ``节假日``,
``随时``), so a volunteer is available for a shift when one of their words covers it:

- 上午 / 下午 / 白天 / 全天 on a working day → 工作日白天; 晚上 on a working day → 工作日晚上;
- any part of a rest day: 周末 when it is a Saturday or Sunday, 节假日 when it is a
  statutory holiday (chinese-calendar; make-up working days 调休 count as working days);
- 随时 covers everything, and so does an empty availability (nothing recorded is read as
  "not restricted": a coordinator who registered a volunteer expects them considered).

Years chinese-calendar does not know fall back to Monday–Friday working days.
"""

from __future__ import annotations

import re
from datetime import date

ANY_TIME = "随时"
DAYTIME = ("上午", "下午", "白天", "全天")
EVENING = ("晚上",)
PARTS = DAYTIME + EVENING

_SHIFT = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s+(\S+)\s*$")


class ShiftError(ValueError):
    """A shift label that does not read as 日期 时段; the message is for people."""


def parse_shift(label: str) -> tuple[date, str]:
    """``"2022-04-10 上午"`` → (date(2022, 4, 10), "上午"); ShiftError otherwise."""
    m = _SHIFT.match(str(label))
    part = m.group(4) if m else ""
    if not m or part not in PARTS:
        raise ShiftError(
            f"班次“{label}”应写成“日期 时段”，如“2022-04-10 上午”（时段：{'、'.join(PARTS)}）"
        )
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ShiftError(f"班次“{label}”中的日期不存在") from None
    return day, part


def normalise_shift(label: str) -> str:
    """The canonical spelling: zero-padded date, one space, the part of day."""
    day, part = parse_shift(label)
    return f"{day.isoformat()} {part}"


def _working_day(day: date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, ImportError):
        return day.weekday() < 5


def _holiday(day: date) -> bool:
    try:
        import chinese_calendar

        # (is rest day, name): a name only for statutory holidays, not plain weekends
        return chinese_calendar.get_holiday_detail(day)[1] is not None
    except (NotImplementedError, ImportError):
        return False


def covering_words(label: str) -> frozenset[str]:
    """The availability words any one of which makes a volunteer available for the shift."""
    day, part = parse_shift(label)
    words = {ANY_TIME}
    if _working_day(day):
        words.add("工作日晚上" if part in EVENING else "工作日白天")
    else:
        if day.weekday() >= 5:
            words.add("周末")
        if _holiday(day):
            words.add("节假日")
    return frozenset(words)


def available_shifts(availability: str | set | frozenset, shifts) -> frozenset[str]:
    """Which of ``shifts`` a volunteer with this availability (words, or the registry's
    text with 、 between them) may serve."""
    if isinstance(availability, str):
        words = {w.strip() for w in re.split(r"[、,，;；\s]+", availability) if w.strip()}
    else:
        words = set(availability)
    if not words or ANY_TIME in words:
        return frozenset(shifts)
    return frozenset(s for s in shifts if words & covering_words(s))
