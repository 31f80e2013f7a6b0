"""Errors the service layer raises; web and CLI turn them into responses and exit codes."""

from __future__ import annotations

from tongban.engine import errors as E
from tongban.engine.errors import Refusal


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def __str__(self) -> str:
        if not self.fields:
            return self.message
        return self.message + "：" + "；".join(f"{k} {v}" for k, v in self.fields.items())


class Invalid(ServiceError):
    status = 400


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"


_REFUSAL_CLASS = {
    E.WRONG_ROLE: Forbidden,
    E.OUTSIDE_JURISDICTION: Forbidden,
    E.NOT_HANDLER: Forbidden,
    E.UNKNOWN_ACTION: NotFound,
    E.NOT_ALLOWED_IN_STATE: Conflict,
    E.DEADLINE_PASSED: Conflict,
    E.ALREADY_SIGNED: Conflict,
    E.CONDITION_FAILED: Conflict,
}


def from_refusal(refusal: Refusal) -> ServiceError:
    cls = _REFUSAL_CLASS.get(refusal.code, Invalid)
    return cls(_for_people(refusal), dict(refusal.fields), code=refusal.code)


def _for_people(refusal: Refusal) -> str:
    """The engine names roles by code; the person at the screen reads their labels."""
    if not refusal.roles:
        return refusal.message
    from tongban.services.catalog import role_labels

    labels = role_labels()
    codes = "、".join(refusal.roles)
    named = "、".join(labels.get(r, r) for r in refusal.roles)
    return refusal.message.replace(f"（需要：{codes}）", f"（需要：{named}）")
