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
    return cls(refusal.message, dict(refusal.fields), code=refusal.code)
