"""Seeding the working calendar from the `chinese_calendar` package: statutory holidays,
make-up working days (调休) and the Chinese holiday names; see `tongban.engine.calendar`.

Pure standard library plus `chinese_calendar`; no Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

# chinese_calendar's English holiday names → the official Chinese names.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _supported(cc, year: int) -> bool:
    try:
        cc.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _supported_years(cc) -> list[int]:
    """The contiguous range of years chinese_calendar answers for, found by probing.

    Probing starts from a year that appears in its data and walks outwards until the
    package raises NotImplementedError, so a newer release extends the range by itself.
    """
    known = [d.year for d in (*cc.holidays, *cc.workdays)]
    anchor = next((y for y in known if _supported(cc, y)), None)
    if anchor is None:
        return []
    low = high = anchor
    while low - 1 >= date.min.year and _supported(cc, low - 1):
        low -= 1
    while high + 1 <= date.max.year and _supported(cc, high + 1):
        high += 1
    return list(range(low, high + 1))


def seed_from_chinese_calendar(
    years: Iterable[int] | None = None,
) -> tuple[dict[date, bool], frozenset[int], dict[date, str]]:
    """Overrides, covered years and holiday names from the `chinese_calendar` package.

    Returns ``(overrides, covered_years, holiday_names)``:

    * ``overrides`` — statutory holidays on Monday–Friday → False; make-up working days
      (调休) on Saturday/Sunday → True. Only deviations from Monday–Friday are listed.
    * ``covered_years`` — every year the package knows (or the requested ``years`` that it
      knows; unknown requested years are left out, never an error).
    * ``holiday_names`` — every day off of a statutory holiday, weekends included, in
      Chinese ("春节", "国庆节", ...).
    """
    import chinese_calendar as cc

    supported = _supported_years(cc)
    covered = frozenset(supported if years is None else set(years) & set(supported))
    overrides: dict[date, bool] = {}
    names: dict[date, str] = {}
    for d, name in cc.holidays.items():
        if d.year not in covered or d in cc.workdays:
            continue
        names[d] = HOLIDAY_NAMES_ZH.get(name, name)
        if d.weekday() < 5:
            overrides[d] = False
    for d in cc.workdays:
        if d.year in covered and d.weekday() >= 5:
            overrides[d] = True
    return overrides, covered, names
