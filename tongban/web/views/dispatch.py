"""Volunteer dispatch pages on the workbench (志愿者调度): demand sets, demand entry and
upload, running a plan, its result with the unfilled demand and reasons, rosters per site
and per volunteer (page, print, xlsx), marking a volunteer dropped. Thin: every write is
a service call; jurisdiction is in the services' queries."""

from __future__ import annotations

import tempfile
from functools import wraps
from pathlib import Path
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.services import dispatch, dispatch_demand, dispatch_rosters
from tongban.services.errors import Invalid
from tongban.web.views.common import service_page
from tongban.web.views.work import staff_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 5 * 1024 * 1024


def _visible_set(view):
    """Answer 404 first when the caller may not see the demand set: checking the posted
    form before the set would tell an outsider which sets exist."""

    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        dispatch_demand.get_set(pk, request.user)
        return view(request, pk, *args, **kwargs)

    return wrapper


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@staff_required
@service_page
def index(request):
    error = None
    if request.method == "POST":
        p = request.POST
        try:
            ds = dispatch_demand.create_set(
                request.user,
                p.get("org", ""),
                p.get("title", ""),
                p.get("max_km", "5"),
                p.get("max_shifts", "1"),
            )
            return redirect("dispatch:set", ds.pk)
        except Invalid as exc:
            error = exc.message
    sets = dispatch_demand.demand_sets(request.user).select_related("org").order_by("-pk")[:100]
    rows = [(ds, dispatch.current_plan(ds)) for ds in sets]
    return render(
        request,
        "dispatch/index.html",
        {"rows": rows, "orgs": dispatch_demand.planning_orgs(request.user), "error": error},
    )


def _set_context(request, pk: int, error: str | None = None, problems=()):
    ds = dispatch_demand.get_set(pk, request.user)
    plan = dispatch.current_plan(ds)
    sites = dispatch_demand.sites(ds).exclude(lat=None).order_by("place_type", "name")
    ctx = {
        "ds": ds,
        "lines": dispatch_demand.lines(ds),
        "sites": sites[:1000],
        "plan": plan,
        "error": error,
        "problems": problems,
    }
    if plan is not None:
        ctx["changes"] = dispatch_rosters.changes(plan)
        ctx["assigned"] = (
            plan.assignments.select_related("volunteer")
            .order_by("volunteer__name")
            .values_list("volunteer_id", "volunteer__name")
            .distinct()
        )
    return ctx


@staff_required
@service_page
def demand_set(request, pk):
    return render(request, "dispatch/set.html", _set_context(request, pk))


def _demand_table(request, pk, error=None):
    ctx = _set_context(request, pk, error)
    if request.headers.get("HX-Request"):
        return render(request, "dispatch/_demand.html", ctx)
    if error:
        messages.error(request, error)
    return redirect("dispatch:set", pk)


@staff_required
@require_POST
@service_page
@_visible_set
def add_line(request, pk):
    p = request.POST
    try:
        dispatch_demand.add_line(
            pk,
            request.user,
            p.get("place", ""),
            p.get("shift", ""),
            p.get("role", ""),
            p.get("count", ""),
        )
    except Invalid as exc:
        return _demand_table(request, pk, exc.message)
    return _demand_table(request, pk)


@staff_required
@require_POST
@service_page
@_visible_set
def delete_line(request, pk, line_id):
    dispatch_demand.delete_line(pk, request.user, line_id)
    return _demand_table(request, pk)


@staff_required
@require_POST
@service_page
@_visible_set
def rules(request, pk):
    try:
        dispatch_demand.update_rules(
            pk, request.user, request.POST.get("max_km"), request.POST.get("max_shifts")
        )
        messages.success(request, "规则已保存，重新排班后生效")
    except Invalid as exc:
        messages.error(request, exc.message)
    return redirect("dispatch:set", pk)


@staff_required
@require_POST
@service_page
@_visible_set
def upload(request, pk):
    f = request.FILES.get("file")
    if f is None:
        messages.error(request, "请选择需求文件（.xlsx 或 .csv）")
        return redirect("dispatch:set", pk)
    if f.size > MAX_UPLOAD:
        messages.error(request, "文件超过 5 MB")
        return redirect("dispatch:set", pk)
    suffix = Path(f.name).suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        for chunk in f.chunks():
            tmp.write(chunk)
        tmp.flush()
        try:
            n = dispatch_demand.import_file(pk, request.user, tmp.name, f.name)
        except dispatch_demand.DemandInvalid as exc:
            ctx = _set_context(request, pk, "需求文件有问题，未做任何修改", exc.problems)
            return render(request, "dispatch/set.html", ctx, status=400)
    messages.success(request, f"已导入 {n} 条需求（原有需求已替换）")
    return redirect("dispatch:set", pk)


@staff_required
@service_page
def template(request):
    from tongban.dispatch.demandfile import write_demand_template

    response = HttpResponse(content_type=XLSX)
    write_demand_template(response)
    return _attachment(response, "排班需求模板.xlsx")


@staff_required
@require_POST
@service_page
@_visible_set
def run(request, pk):
    try:
        out = dispatch.plan(pk, request.user)
    except Invalid as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:set", pk)
    messages.success(
        request,
        f"排班完成：已安排 {out.filled} 人次，缺口 {out.missing} 人次；"
        f"已通知 {out.notified} 名志愿者",
    )
    return redirect("dispatch:set", pk)


@staff_required
@require_POST
@service_page
@_visible_set
def drop(request, pk):
    try:
        vid = dispatch.find_volunteer(pk, request.user, request.POST.get("volunteer", ""))
        out = dispatch.drop(pk, request.user, vid)
    except Invalid as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:set", pk)
    messages.success(
        request,
        f"已重新排班：改动 {len(out.added) + len(out.removed)} 项，已通知 {out.notified} 名志愿者",
    )
    return redirect("dispatch:set", pk)


def _plan_id(request) -> int | None:
    raw = request.GET.get("plan", "")
    return int(raw) if raw.isdigit() else None


@staff_required
@service_page
def roster(request, pk):
    ds, plan = dispatch_rosters.plan_of(pk, request.user, _plan_id(request))
    ctx = {"ds": ds, "plan": plan, **dispatch_rosters.roster(plan)}
    ctx["view"] = "volunteer" if request.GET.get("by") == "volunteer" else "site"
    return render(request, "dispatch/roster.html", ctx)


@staff_required
@service_page
def roster_xlsx(request, pk):
    ds, plan = dispatch_rosters.plan_of(pk, request.user, _plan_id(request))
    response = HttpResponse(content_type=XLSX)
    dispatch_rosters.write_xlsx(plan, response)
    return _attachment(response, f"{ds.title}-排班表.xlsx")
