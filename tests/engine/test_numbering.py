"""Numbering rules (编号规则): rendering, counter scopes, bad patterns and overflow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.conftest import SH
from tongban.engine.numbering import compile_pattern

DIVISION = "320507"
MATTER = "road_occupation"


def when(y, m, d, hh=9) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SH)


def render(pattern, seq, now, division=DIVISION):
    return pattern.format(seq, now=now, division=division, matter=MATTER)


def scope(pattern, now, division=DIVISION):
    return pattern.scope(now=now, division=division, matter=MATTER)


# -- the two shapes in use ------------------------------------------------------------------


def test_division_plus_six_digit_sequence_is_a_twelve_digit_number():
    p = compile_pattern("{division}{seq:6}")
    number = render(p, 1, when(2026, 3, 2))
    assert number == "320507000001"
    assert len(number) == 12 and number.isdigit()
    assert render(p, 999_999, when(2026, 3, 2)) == "320507999999"


def test_yearly_scope_is_shared_by_the_whole_year_and_changes_with_it():
    p = compile_pattern("{division}{yy}{seq:4}", "yearly")
    jan, dec = scope(p, when(2026, 1, 1)), scope(p, when(2026, 12, 31, 17))
    assert jan == dec
    assert scope(p, when(2027, 1, 1)) != jan
    # One counter per division: two districts never share a counter.
    assert scope(p, when(2026, 3, 2), division="320506") != scope(p, when(2026, 3, 2))


def test_yearly_reset_without_the_year_in_the_number_is_refused():
    # It would issue 320507000001 again every year.
    with pytest.raises(ValueError, match="按年重置的编号必须包含"):
        compile_pattern("{division}{seq:6}", "yearly")
    with pytest.raises(ValueError, match="按月重置的编号必须包含"):
        compile_pattern("{year}{seq:6}", "monthly")
    p = compile_pattern("{division}{yy}{seq:4}", "yearly")
    assert render(p, 1, when(2026, 3, 2)) != render(p, 1, when(2027, 3, 2))


def test_document_number_with_year_in_brackets():
    p = compile_pattern("苏相农通〔{year}〕{seq:5}", "yearly")
    assert render(p, 1, when(2026, 3, 2)) == "苏相农通〔2026〕00001"
    assert render(p, 12345, when(2026, 3, 2)) == "苏相农通〔2026〕12345"
    assert scope(p, when(2026, 3, 2)) == "苏相农通〔2026〕#|2026"
    assert scope(p, when(2027, 1, 4)) == "苏相农通〔2027〕#|2027"


def test_date_tokens_and_truncated_division():
    p = compile_pattern("{matter}-{yy}{month}{day}-{division:4}-{seq:3}", "daily")
    assert render(p, 7, when(2026, 3, 2)) == "road_occupation-260302-3205-007"
    assert scope(p, when(2026, 3, 2)) == "road_occupation-260302-3205-#|20260302"


@pytest.mark.parametrize(
    ("reset", "same", "different"),
    [
        ("never", when(2030, 6, 1), None),
        ("yearly", when(2026, 12, 31), when(2027, 1, 1)),
        ("monthly", when(2026, 3, 31), when(2026, 4, 1)),
        ("daily", when(2026, 3, 2, 23), when(2026, 3, 3)),
    ],
)
def test_reset_periods(reset, same, different):
    shape = {
        "never": "",
        "yearly": "{year}",
        "monthly": "{year}{month}",
        "daily": "{year}{month}{day}",
    }
    p = compile_pattern(f"TB{shape[reset]}-{{seq:4}}", reset)
    base = scope(p, when(2026, 3, 2) if reset != "monthly" else when(2026, 3, 1))
    assert scope(p, same) == base
    if different is not None:
        assert scope(p, different) != base


def test_year_is_the_beijing_year_whatever_timezone_now_is_in():
    p = compile_pattern("苏相农通〔{year}〕{seq:5}", "yearly")
    new_year_morning = datetime(2027, 1, 1, 7, 0, tzinfo=SH).astimezone(UTC)
    assert render(p, 1, new_year_morning) == "苏相农通〔2027〕00001"
    assert scope(p, new_year_morning) == scope(p, datetime(2027, 6, 1, tzinfo=SH))


# -- overflow ----------------------------------------------------------------------------------


def test_overflow_is_refused_with_a_message():
    p = compile_pattern("苏相农通〔{year}〕{seq:5}", "yearly")
    assert render(p, 99_999, when(2026, 3, 2)) == "苏相农通〔2026〕99999"
    with pytest.raises(OverflowError, match="序号已用完（5 位）"):
        render(p, 100_000, when(2026, 3, 2))


def test_twelve_digit_sequence_is_the_widest_allowed():
    p = compile_pattern("{seq:12}")
    assert render(p, 1, when(2026, 3, 2)) == "000000000001"
    with pytest.raises(ValueError, match="1 到 12 位"):
        compile_pattern("{seq:13}")


# -- bad patterns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("苏相农通〔{year}〕", "必须恰好包含一个 {seq:位数}"),
        ("{seq:3}-{seq:3}", "必须恰好包含一个 {seq:位数}"),
        ("苏相农通〔{year}〕{seq}", "序号位数必须写明"),
        ("{seq:0}", "1 到 12 位"),
        ("{seq:99}", "1 到 12 位"),
        ("〔{yaer}〕{seq:5}", "未知的占位符 ['yaer']"),
        ("〔{Year}〕{seq:5}", "花括号不成对或占位符写法有误"),
        ("〔{year〕{seq:5}", "花括号不成对或占位符写法有误"),
        ("〔year}〕{seq:5}", "花括号不成对或占位符写法有误"),
        ("{seq:5x}", "必须恰好包含一个 {seq:位数}"),
    ],
)
def test_bad_patterns_are_refused_with_a_chinese_message(pattern, message):
    with pytest.raises(ValueError) as exc:
        compile_pattern(pattern)
    assert message in str(exc.value)


# -- scope and number agree --------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    width=st.integers(1, 12),
    data=st.data(),
    day=st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 12, 31).date()),
    prefix=st.text(alphabet="苏相农通〔〕-AB ", max_size=6),
)
def test_the_number_is_the_scope_with_the_sequence_filled_in(width, data, day, prefix):
    seq = data.draw(st.integers(0, 10**width - 1))
    p = compile_pattern(f"{prefix}{{year}}{{seq:{width}}}", "yearly")
    now = datetime(day.year, day.month, day.day, 12, tzinfo=SH)
    number = render(p, seq, now)
    text, period = scope(p, now).rsplit("|", 1)
    assert period == str(day.year)
    assert number == text.replace("#", f"{seq:0{width}d}")
    assert len(number) == len(prefix) + 4 + width
