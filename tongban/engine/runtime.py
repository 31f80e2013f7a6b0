"""The running side of a matter: who acts, a case's state, and what a step produces.

Plain frozen data the interpreter (`workflow`) takes and returns; the service layer turns
stored rows into these and writes them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tongban.engine.schema import DurationSpec


@dataclass(frozen=True)
class Membership:
    """A role held at a node of the organisation tree (path like `320507/320507104`)."""

    role: str
    org_path: str
    level: str


def within(case_path: str, org_path: str) -> bool:
    """Is the case's org the membership's org or below it?"""
    return case_path == org_path or case_path.startswith(org_path + "/")


@dataclass(frozen=True)
class Actor:
    user_id: int
    name: str = ""
    memberships: frozenset[Membership] = frozenset()
    system: bool = False

    @property
    def role_codes(self) -> frozenset[str]:
        return frozenset(m.role for m in self.memberships)

    def holds(self, roles: tuple[str, ...], case_path: str, level: str | None) -> list[Membership]:
        return [
            m
            for m in self.memberships
            if m.role in roles
            and within(case_path, m.org_path)
            and (level is None or m.level == level)
        ]


SYSTEM_ACTOR = Actor(user_id=0, name="系统", system=True)


@dataclass(frozen=True)
class CaseState:
    """Everything the engine needs to know about a running case."""

    state: str
    data: Mapping[str, Any]
    applicant_id: int
    org_path: str
    entered_at: datetime
    materials: Mapping[str, Any] = field(default_factory=dict)
    deadline: datetime | None = None
    due_at: datetime | None = None
    handler_id: int | None = None
    signatures: tuple[tuple[str, int], ...] = ()
    visited: tuple[str, ...] = ()
    extensions: int = 0  # extensions granted in the current step
    overdue: bool = False  # the current step's deadline has passed and was reported


@dataclass(frozen=True)
class ActionInput:
    comment: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    target: str | None = None  # for back_to (退回): the chosen earlier step
    assignee: Actor | None = None  # for transfer (转交)
    extension: DurationSpec | None = None  # for extend (延期); default: the maximum
    materials: Mapping[str, Any] | None = None  # replaced materials (补正), when edits allow


@dataclass(frozen=True)
class EventDraft:
    kind: str  # submitted, moved, signed, transferred, extended, overdue, reported
    from_state: str | None
    to_state: str
    actor_id: int
    action: str = ""
    comment: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """Something the service layer does in the same transaction as the state change."""

    kind: str  # certificate, spawn, notify
    key: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    state: CaseState
    events: tuple[EventDraft, ...]
    effects: tuple[Effect, ...] = ()
