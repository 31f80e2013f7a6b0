"""Shared helpers for the working-calendar tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tongban.engine.calendar import (
    WorkCalendar,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.default()


def at(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def fresh() -> WorkCalendar:
    """An uncached calendar, so per-instance warning state starts empty."""
    return WorkCalendar.from_chinese_calendar()
