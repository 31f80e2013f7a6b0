"""Errors the engine reports: catalog problems (for authors) and refusals (for actors)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a catalog file, located as `file:line: path: message`."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(file)'}: {self.message}"


class CatalogError(Exception):
    """A catalog file (or set of files) that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# Why an actor may not do what they asked. Codes are stable (the API returns them);
# messages are Chinese, for the person at the screen.
NOT_ALLOWED_IN_STATE = "not_allowed_in_state"
WRONG_ROLE = "wrong_role"
OUTSIDE_JURISDICTION = "outside_jurisdiction"
COMMENT_REQUIRED = "comment_required"
INVALID_INPUT = "invalid_input"
UNKNOWN_ACTION = "unknown_action"
CONDITION_FAILED = "condition_failed"
DEADLINE_PASSED = "deadline_passed"
NOT_HANDLER = "not_handler"
ALREADY_SIGNED = "already_signed"


@dataclass
class Refusal(Exception):
    """The engine refuses an action; nothing changes. `fields` maps field keys to messages."""

    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = ()  # wrong_role: the role codes that may act (named in `message`)

    def __str__(self) -> str:
        if not self.fields:
            return self.message
        details = "；".join(f"{k}：{v}" for k, v in self.fields.items())
        return f"{self.message}（{details}）"
