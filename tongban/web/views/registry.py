"""Registry pages on the workbench: lists, a record, reveal, template, export, import
with a progress bar, and the JSON lookup forms use to pick a record.

Picking from a registry in a form: `GET /registry/<kind>/lookup?q=…` answers
`{"kind": "person", "results": [{"ref": "person:42", "id": 42, "label": "张三 320507********1234",
"org": "湘城社区第一网格", "fields": {...masked...}}]}` for records in the caller's jurisdiction.
A form keeps the `ref`; the service that files the case copies the full values with
`services.registry.resolve(ref, user)` (logged like a reveal). See docs/registry.md.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tongban.services import registry
from tongban.services.errors import Invalid
from tongban.web.views.common import client_ip, service_page
from tongban.web.views.work import staff_required

PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def _filters(request, kind) -> dict[str, str]:
    keys = (*kind.filters, "org")
    return {k: request.GET.get(k, "")[:50] for k in keys if request.GET.get(k)}


@staff_required
@service_page
def index(request):
    return render(request, "registry/index.html", {"counts": registry.counts(request.user)})


@staff_required
@service_page
def records(request, kind):
    kind = registry.kind_of(kind)
    scope = registry.scope_of(request.user)
    query = request.GET.get("q", "")
    filters = _filters(request, kind)
    qs = registry.search(kind, scope, query, filters).select_related("org").order_by("-pk")
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    # A health column is shown to users with a health role somewhere; its cells stay
    # empty on rows outside their health jurisdiction.
    shown = tuple(k for k in kind.listed if not kind.column(k).health or scope.any_health)
    rows = [(r, registry.row_cells(kind, r, scope, shown)) for r in page]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "registry/list.html",
        {
            "kind": kind,
            "kinds": registry.kinds(),
            "headers": [kind.column(k).header for k in shown],
            "rows": rows,
            "page": page,
            "query": query,
            "filters": filters,
            "filter_columns": [
                kind.column(k)
                for k in kind.filters
                if not kind.column(k).health or scope.any_health
            ],
            "orgs": registry.org_choices(request.user),
            "querystring": params.urlencode(),
        },
    )


@staff_required
@service_page
def record(request, kind, pk):
    kind, scope, rec = registry.get_record(kind, pk, request.user)
    cells = registry.row_cells(kind, rec, scope)
    return render(request, "registry/record.html", {"kind": kind, "record": rec, "cells": cells})


@staff_required
@require_POST
@service_page
def reveal(request, kind, pk):
    value = registry.reveal(
        kind, pk, request.user, request.POST.get("field", ""), client_ip(request)
    )
    return HttpResponse(value, content_type="text/plain; charset=utf-8")


@staff_required
@require_GET
@service_page
def lookup(request, kind):
    try:
        limit = int(request.GET.get("limit", "10"))
    except ValueError:
        limit = 10
    results = registry.lookup(kind, request.user, request.GET.get("q", ""), limit)
    return JsonResponse(
        {"kind": kind, "results": results}, json_dumps_params={"ensure_ascii": False}
    )


@staff_required
@service_page
def template(request, kind):
    k = registry.kind_of(kind)
    response = HttpResponse(content_type=XLSX)
    registry.write_template(kind, response)
    return _attachment(response, f"{k.label}导入模板.xlsx")


@staff_required
@service_page
def export(request, kind):
    k = registry.kind_of(kind)
    unmasked = request.method == "POST" and request.POST.get("unmasked") == "1"
    source = request.POST if request.method == "POST" else request.GET
    response = HttpResponse(content_type=XLSX)
    registry.export(
        kind,
        response,
        request.user,
        unmasked=unmasked,
        query=source.get("q", ""),
        filters=_filters(request, k) if request.method == "GET" else {},
        ip=client_ip(request),
    )
    return _attachment(response, f"{k.label}.xlsx")


@staff_required
@service_page
def upload(request, kind):
    k = registry.kind_of(kind)
    registry.scope_of(request.user)
    ctx = {"kind": k, "kinds": registry.kinds()}
    if request.method == "GET":
        return render(request, "registry/import.html", ctx)
    f = request.FILES.get("file")
    if f is None:
        ctx["error"] = "请选择要导入的 xlsx 文件"
        return render(request, "registry/import.html", ctx, status=400)
    try:
        job = registry.start_job(
            kind,
            request.user,
            f.chunks(),
            f.name,
            partial=request.POST.get("partial") == "1",
            gcj02=request.POST.get("gcj02") == "1",
        )
    except Invalid as exc:
        ctx["error"] = exc.message
        return render(request, "registry/import.html", ctx, status=400)
    messages.info(request, f"已收到 {f.name}，正在后台导入")
    return redirect("registry_job", token=job.token)


@staff_required
@service_page
def job(request, token):
    status = registry.job_status(token, request.user)
    return render(
        request,
        "registry/job.html",
        {"s": status, "kind": registry.kind_of(status["job"].kind)},
    )


@staff_required
@service_page
def job_progress(request, token):
    """The progress fragment the job page polls every second until the job ends."""
    status = registry.job_status(token, request.user)
    return render(
        request,
        "registry/_progress.html",
        {"s": status, "kind": registry.kind_of(status["job"].kind)},
    )


@staff_required
@service_page
def job_rejected(request, token):
    path = registry.rejected_file(token, request.user)
    job = registry.get_job(token, request.user)
    name = job.file_name.rsplit(".", 1)[0] + "（未导入的行）.xlsx"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=XLSX)
