"""Plain data in and out of the planner: no Django, no I/O.

Identifiers (volunteer ids, site ids, shifts, roles) are any hashable values the caller
chooses — database primary keys, ``"2022-04-10 上午"``, ``"data_entry"`` … — and come back
unchanged in the results.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

#: Why a demand slot stays unfilled, most fundamental first. ``capacity`` is only reported
#: once the planner has proven that no re-arrangement could fill the slot (see solver).
NO_SKILL = "no_skill"
OUT_OF_RANGE = "out_of_range"
NOT_AVAILABLE = "not_available"
CAPACITY = "capacity"

REASONS = (NO_SKILL, OUT_OF_RANGE, NOT_AVAILABLE, CAPACITY)

#: Text for people (zh-Hans). ``{candidates}`` is the number of suitable volunteers.
REASON_TEXT = {
    NO_SKILL: "没有具备该岗位技能的志愿者",
    OUT_OF_RANGE: "具备该技能的志愿者都不在其最远出行距离之内",
    NOT_AVAILABLE: "距离范围内具备该技能的志愿者在该班次都没有空",
    CAPACITY: "符合条件的 {candidates} 名志愿者已全部排满（其他岗位或班次上限）",
}


@dataclass(frozen=True, slots=True)
class Volunteer:
    """One volunteer: where they live, what they can do, when and how much.

    ``shifts``: the shifts they are available for; at most one place per shift and at most
    ``max_shifts`` shifts in the plan; never sent further than ``max_km`` (great-circle km
    from ``lat``/``lng``).
    """

    id: Hashable
    lat: float
    lng: float
    skills: frozenset = frozenset()
    shifts: frozenset = frozenset()
    max_shifts: int = 1
    max_km: float = 5.0

    def __post_init__(self) -> None:
        # accept any iterable for the sets (lists from a form or a row of Excel)
        if not isinstance(self.skills, frozenset):
            object.__setattr__(self, "skills", frozenset(self.skills))
        if not isinstance(self.shifts, frozenset):
            object.__setattr__(self, "shifts", frozenset(self.shifts))


@dataclass(frozen=True, slots=True)
class Demand:
    """``count`` volunteers with skill ``role`` wanted at ``site_id`` during ``shift``.

    (``site_id``, ``shift``, ``role``) is the demand's key and must be unique in one call."""

    site_id: Hashable
    lat: float
    lng: float
    shift: Hashable
    role: Hashable
    count: int = 1

    @property
    def key(self) -> tuple:
        return (self.site_id, self.shift, self.role)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Volunteer ``volunteer_id`` works ``role`` at ``site_id`` during ``shift``; travel
    ``metres`` (great-circle, whole metres) from home."""

    volunteer_id: Hashable
    site_id: Hashable
    shift: Hashable
    role: Hashable
    metres: int

    @property
    def km(self) -> float:
        return self.metres / 1000.0

    @property
    def demand_key(self) -> tuple:
        return (self.site_id, self.shift, self.role)

    @property
    def key(self) -> tuple:
        return (self.volunteer_id, self.site_id, self.shift, self.role)


@dataclass(frozen=True, slots=True)
class Unfilled:
    """``missing`` of ``demand.count`` slots stay empty, because of ``reason`` (one of
    :data:`REASONS`); ``candidates`` volunteers have the skill, the range and the shift."""

    demand: Demand
    missing: int
    reason: str
    candidates: int = 0

    @property
    def text(self) -> str:
        return REASON_TEXT[self.reason].format(candidates=self.candidates)


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of planning: assignments, their total travel, and what stays unfilled.

    ``stats`` holds figures about the run (sizes, seconds, whether filling was proven
    maximal) for logs and benchmarks; nothing depends on it."""

    assignments: tuple[Assignment, ...]
    unfilled: tuple[Unfilled, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def total_m(self) -> int:
        return sum(a.metres for a in self.assignments)

    @property
    def total_km(self) -> float:
        return self.total_m / 1000.0

    @property
    def filled(self) -> int:
        return len(self.assignments)

    @property
    def missing(self) -> int:
        return sum(u.missing for u in self.unfilled)

    def unfilled_by_reason(self) -> dict[str, int]:
        """Missing slots per reason (every reason present, 0 when none)."""
        out = dict.fromkeys(REASONS, 0)
        for u in self.unfilled:
            out[u.reason] += u.missing
        return out


@dataclass(frozen=True, slots=True)
class Replan:
    """A new plan after changes (volunteers dropped out, demand changed), and the difference
    with the previous one. ``removed``: previous assignments no longer in the plan (the
    dropped volunteers' among them); ``added``: new ones. Every other assignment is kept."""

    plan: Plan
    removed: tuple[Assignment, ...]
    added: tuple[Assignment, ...]

    @property
    def changed(self) -> int:
        """Size of the symmetric difference between the old and the new assignments."""
        return len(self.removed) + len(self.added)

    def notices(self, dropped_ids=()) -> dict[Hashable, dict[str, list[Assignment]]]:
        """Whom to tell what: volunteer id → ``{"added": [...], "removed": [...]}``, for every
        volunteer whose assignments changed, except those in ``dropped_ids`` (who left)."""
        dropped = set(dropped_ids)
        out: dict[Hashable, dict[str, list[Assignment]]] = {}
        for kind, items in (("removed", self.removed), ("added", self.added)):
            for a in items:
                if a.volunteer_id in dropped:
                    continue
                out.setdefault(a.volunteer_id, {"added": [], "removed": []})[kind].append(a)
        return out
