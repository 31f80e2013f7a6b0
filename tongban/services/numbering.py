"""Gapless numbers: one counter row per scope, bumped inside the caller's transaction.

One statement (an upsert with RETURNING, supported by PostgreSQL and SQLite ≥ 3.35) both
creates the counter on first use and increments it; the row lock it takes makes concurrent
issuers queue, and a rollback of the issuing transaction rolls the number back with it.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from tongban.engine.numbering import Pattern, compile_pattern
from tongban.engine.schema import NumberingSpec
from tongban.store import fastpath
from tongban.store.models import Counter

_SQL = (
    f"INSERT INTO {Counter._meta.db_table} (scope, value) VALUES (%s, 1) "
    f"ON CONFLICT (scope) DO UPDATE SET value = {Counter._meta.db_table}.value + 1 "
    "RETURNING value"
)


def next_value(scope: str) -> int:
    return int(fastpath.execute(_SQL, [scope]).fetchone()[0])


@lru_cache(maxsize=256)
def _pattern(text: str, reset: str) -> Pattern:
    """Patterns are checked when the catalog loads; parse each one once per process."""
    return compile_pattern(text, reset)


def issue(rule: NumberingSpec, *, now: datetime, division: str, matter: str) -> str:
    pattern = _pattern(rule.pattern, rule.reset)
    scope = pattern.scope(now=now, division=division, matter=matter)
    return pattern.format(next_value(scope), now=now, division=division, matter=matter)
