"""GeoReport v2 endpoints. Each view answers in the format its URL ends with; every error
is the spec's list of {code, description} with the HTTP status the spec names (404 for
what does not exist, 403 for the api_key, 400 for anything else)."""

from __future__ import annotations

import logging
from functools import wraps

from django.db import DatabaseError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from tongban.services import open311
from tongban.web.open311 import render

log = logging.getLogger("tongban.open311")


def endpoint(*methods: str):
    """Only the listed HTTP methods; Open311Error → the spec's error body; a database
    outage → the spec's "general service error"."""

    def wrap(view):
        @wraps(view)
        def inner(request, fmt, *args, **kwargs):
            if request.method not in methods:
                allowed = "、".join(methods)
                return render.errors(
                    fmt, 400, [(400, f"method {request.method} not supported; use {allowed}")]
                )
            try:
                return view(request, fmt, *args, **kwargs)
            except open311.Open311Error as exc:
                return render.errors(fmt, exc.status, exc.errors)
            except DatabaseError:
                log.exception("open311 %s failed", request.path)
                return render.errors(
                    fmt,
                    400,
                    [(400, "General service error: please try again later / 服务暂时不可用")],
                )

        return inner

    return wrap


def _jid(request) -> str:
    return request.GET.get("jurisdiction_id", "") or request.POST.get("jurisdiction_id", "")


@endpoint("GET", "HEAD")
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:root"))
    return render.response(fmt, "discovery", open311.discovery(base.rstrip("/")))


@endpoint("GET", "HEAD")
def services(request, fmt):
    open311.jurisdiction(_jid(request))
    return render.response(fmt, "services", open311.services())


@endpoint("GET", "HEAD")
def definition(request, fmt, code):
    open311.jurisdiction(_jid(request))
    return render.response(fmt, "service_definition", open311.definition(code))


@csrf_exempt  # token-authenticated (api_key), never a browser session
@endpoint("GET", "HEAD", "POST")
def requests(request, fmt):
    if request.method == "POST":
        user = open311.user_for_key(request.POST.get("api_key") or request.GET.get("api_key"))
        created = open311.create(user, request.POST)
        return render.response(fmt, "service_requests", [created])
    return render.response(fmt, "service_requests", open311.search(request.GET))


@endpoint("GET", "HEAD")
def request_detail(request, fmt, request_id):
    return render.response(fmt, "service_requests", open311.one(request_id, _jid(request)))


@endpoint("GET", "HEAD")
def token(request, fmt, token):
    return render.response(fmt, "service_requests", open311.token(token, _jid(request)))


def root(request):
    """The endpoint's root: the discovery document (XML, the required format)."""
    return discovery(request, "xml")


@csrf_exempt
def unknown(request, path=""):
    fmt = "json" if path.endswith(".json") else "xml"
    return render.errors(
        fmt, 404, [(404, f"no such resource: {path[:80]} / 请求的地址不存在（见 discovery.xml）")]
    )
