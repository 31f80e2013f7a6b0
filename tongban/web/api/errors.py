"""One error shape for every failure: {"code", "message" (Chinese), "fields" {field: message}}.

Service errors keep their status (400/403/404/409/503); ninja's own request validation
(422 by default) becomes a 400 with per-field messages; database outages become 503.
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tongban.services.errors import ServiceError
from tongban.web.api.schemas import ErrorOut

logger = logging.getLogger("tongban.api")

MESSAGES = {
    400: "请求内容有误，请按提示修改",
    401: "需要登录：请在请求头中提供有效的令牌（Authorization: Bearer <令牌>）",
    403: "没有权限进行此操作",
    404: "请求的资源不存在，或不在您的查看范围内",
    405: "不支持这个请求方法",
    409: "与当前状态冲突，请刷新后重试",
    413: "请求内容太大",
    429: "请求太频繁，请稍后再试",
    503: "数据库暂时不可用，请稍后重试",
}
CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "throttled",
    503: "unavailable",
}
DESCRIPTIONS = {
    400: "请求有误：fields 逐项说明哪个字段错在哪里",
    401: "未提供令牌或令牌无效",
    403: "角色不符或无权办理",
    404: "不存在，或不在调用者的查看范围内（不透露是否存在）",
    409: "状态冲突，如 expected_version 已过期（code 为 stale）",
    413: "请求体或文件太大",
    503: "数据库暂时不可用",
}

# pydantic error types → what a person reads
_PYDANTIC = {
    "missing": "必填",
    "extra_forbidden": "不认识的字段",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_too_long": "太长，最多 {max_length} 个字符",
    "string_too_short": "太短，至少 {min_length} 个字符",
    "too_long": "太多，最多 {max_length} 项",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "greater_than": "必须大于 {gt}",
    "less_than": "必须小于 {lt}",
    "string_pattern_mismatch": "格式不对",
    "literal_error": "只能是 {expected}",
    "enum": "只能是 {expected}",
    "json_invalid": "不是有效的 JSON",
    "value_error": "格式不对",
}
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
BODY_PARAM = "payload"  # the name every view gives its body schema (stripped from field paths)


def body(code: str, message: str, fields: dict[str, str] | None = None) -> dict:
    return ErrorOut(code=code, message=message, fields=fields or {}).model_dump()


def documented(*statuses: int) -> dict[int, type]:
    """Response declarations for the OpenAPI document: these statuses return ErrorOut."""
    return dict.fromkeys(statuses, ErrorOut)


def _field(loc: tuple) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == BODY_PARAM:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "__all__"


def _message(err: dict) -> str:
    template = _PYDANTIC.get(err.get("type", ""))
    if template is None:
        return "格式不对"
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template.split("，")[0]


def validation_fields(errors: list[dict]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in errors:
        loc = tuple(err.get("loc") or ())
        key = _field(loc)
        if loc and loc[0] == "body" and key == BODY_PARAM:
            key = "__all__"
            msg = "请求体必须是一个 JSON 对象"
        else:
            msg = _message(err)
        fields.setdefault(key, msg)
    return fields


def install(api: NinjaAPI) -> None:
    def respond(request, status, code, message, fields=None) -> HttpResponse:
        return api.create_response(request, body(code, message, fields), status=status)

    @api.exception_handler(ServiceError)
    def service_error(request: HttpRequest, exc: ServiceError):
        return respond(request, exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError):
        return respond(request, 400, "invalid", MESSAGES[400], validation_fields(exc.errors))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError):
        response = respond(request, 401, CODES[401], MESSAGES[401])
        response["WWW-Authenticate"] = 'Bearer realm="tongban"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError):
        status = exc.status_code
        if isinstance(exc.__cause__, RequestDataTooBig):
            return too_big(request, exc.__cause__)
        message = MESSAGES.get(status, exc.message)
        if status == 400 and exc.message.startswith("Cannot parse request body"):
            message = "请求体不是有效的 JSON"
        elif status == 403 and "CSRF" in exc.message:
            message = "CSRF 校验失败：修改数据请使用令牌（Authorization: Bearer <令牌>）"
        return respond(request, status, CODES.get(status, "error"), message)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: Exception):
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f"（不能超过 {limit / 1024 / 1024:g} MB）" if limit else ""
        return respond(request, 413, "too_large", f"请求内容太大{size}")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation):
        return respond(request, 400, "bad_request", "请求无效（字段或文件太多，或格式异常）")

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404):
        return respond(request, 404, "not_found", MESSAGES[404])

    @api.exception_handler(DatabaseError)
    def unavailable(request: HttpRequest, exc: DatabaseError):
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exc)
        return respond(request, 503, "unavailable", MESSAGES[503])

    @api.exception_handler(Exception)
    def internal(request: HttpRequest, exc: Exception):
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, "internal", "服务器内部错误，请稍后重试")
