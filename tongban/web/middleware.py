"""When the database is unreachable, answer 503 with a Chinese message, at once.

Without this, a page whose view cannot reach PostgreSQL (the server restarting, a failover,
a network cut) raises OperationalError and Django renders its 500 page — and that page's
base template asks for the user, which needs the database again. Here the view's exception
becomes a 503 that touches nothing: a self-contained HTML page, or the API's error shape
for /api/ and /open311/ (JSON clients), with `Retry-After`, so browsers and clients retry
instead of reporting a bug. Nothing was written: every write is one transaction, and the
one that failed rolled back.

The API's own handler already turns DatabaseError into a 503 body (web/api/errors.py);
this middleware adds `Retry-After` to it and to any other 503 that lacks one.
"""

from __future__ import annotations

import json
import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

logger = logging.getLogger("tongban.web")

RETRY_AFTER_S = 15
MESSAGE = "系统繁忙，数据库暂时不可用，请稍后重试。已填写的内容没有保存，请稍后重新提交。"
JSON_PREFIXES = ("/api/", "/open311/")

_PAGE = """<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>系统繁忙 · 通办</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">
<h1>系统繁忙</h1>
<p>{message}</p>
<p>请在 {retry} 秒后<a href="">刷新页面</a>重试。</p>
</body></html>
"""


def wants_json(request) -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def unavailable(request) -> HttpResponse:
    """The 503 answer; builds its body without the database or the template engine."""
    if wants_json(request):
        body = json.dumps(
            {"code": "unavailable", "message": MESSAGE, "fields": {}}, ensure_ascii=False
        )
        response = HttpResponse(body, status=503, content_type="application/json; charset=utf-8")
    else:
        page = _PAGE.format(message=MESSAGE, retry=RETRY_AFTER_S)
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """OperationalError / InterfaceError from a view → 503 (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 503 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(RETRY_AFTER_S)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable for %s %s: %s", request.method, request.path, exception
        )
        return unavailable(request)


def server_error(request):
    """handler500: a database error raised outside a view (in a middleware saving the
    session, say) still becomes the 503 above; anything else is Django's plain 500."""
    import sys

    from django.views.defaults import server_error as default

    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return unavailable(request)
    return default(request)


class JsonMethodNotAllowedMiddleware:
    """The API answers a method it does not offer (405) in its one error shape, like every
    other failure, instead of django-ninja's plain-text "Method not allowed"; the Allow header
    stays. (Open311 documents its own error list and is left to its views.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            allowed = response.get("Allow", "")
            message = "不支持这个请求方法" + (
                f"（可用：{allowed.replace(', ', '、')}）" if allowed else ""
            )
            body = {"code": "method_not_allowed", "message": message, "fields": {}}
            json_response = HttpResponse(
                json.dumps(body, ensure_ascii=False),
                status=405,
                content_type="application/json; charset=utf-8",
            )
            if allowed:
                json_response["Allow"] = allowed
            return json_response
        return response
