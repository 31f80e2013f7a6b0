"""Supervision dashboard (督办): figures, charts, the overdue list with 督办, Excel export."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from io import BytesIO
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from tongban.services import stats, supervision
from tongban.services.errors import Invalid, ServiceError
from tongban.web.views.common import service_page

PAGE = 50
EXPORT_OVERDUE_LIMIT = 10000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def supervisor_required(view):
    """Only users holding a supervisor or head role somewhere; others get the 403 page."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not stats.supervises(request.user):
            raise PermissionDenied(stats.NO_SCOPE)
        return view(request, *args, **kwargs)

    return wrapper


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _filters(request, scope: stats.Scope) -> dict:
    """The filter form's values (as typed) and the org choices of the user's scope."""
    values = {
        "from": request.GET.get("from", "").strip(),
        "to": request.GET.get("to", "").strip(),
        "org": scope.org.code if scope.org else "",
    }
    choices = [{**o, "indent": "\u3000" * o["depth"]} for o in stats.org_choices(scope)]
    return {"f": values, "org_choices": choices, "scope": scope}


def _query(**values) -> str:
    kept = {k: v for k, v in values.items() if v}
    return "?" + urlencode(kept) if kept else ""


def _with_display(rows: list[dict]) -> list[dict]:
    return [
        {
            **r,
            "on_time_pct": _pct(r.get("on_time_rate")),
            "avg_hours_text": _hours(r.get("avg_hours")),
        }
        for r in rows
    ]


@require_GET
@supervisor_required
@service_page
def dashboard(request):
    scope = stats.scope_for(request.user, request.GET.get("org"))
    ctx = _filters(request, scope)
    ctx["tab"] = "stats"
    try:
        period = stats.period(request.GET.get("from"), request.GET.get("to"))
    except Invalid as exc:
        ctx.update(error=exc.message, errors=exc.fields)
        ctx["tabs_query"] = _query(org=ctx["f"]["org"])
        return render(request, "supervise/dashboard.html", ctx, status=400)
    rep = stats.report(scope, period)
    ctx["f"].update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    query = _query(**ctx["f"])
    s = rep.summary
    sat = rep.satisfaction
    ctx.update(
        report=rep,
        period=period,
        summary=s,
        on_time_pct=_pct(s["on_time_rate"]),
        avg_hours=_hours(rep.handling["avg_hours"]),
        satisfied_pct=_pct(sat["rate"]),
        matters=_with_display(rep.matters),
        orgs=_with_display(rep.orgs),
        states=rep.states,
        state_labels=rep.state_labels,
        satisfaction=sat,
        levels=[
            {**x, "pct": _pct(x["n"] / sat["ratings"] if sat["ratings"] else None)}
            for x in sat["levels"]
        ],
        data=rep.chart_data(),
        tabs_query=query,
        export_url=reverse("supervise_export") + query,
    )
    return render(request, "supervise/dashboard.html", ctx)


def _page(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@require_GET
@supervisor_required
@service_page
def overdue(request):
    scope = stats.scope_for(request.user, request.GET.get("org"))
    ctx = _filters(request, scope)
    page = _page(request)
    now = timezone.now()
    rows = stats.overdue_rows(scope, now, offset=(page - 1) * PAGE, limit=PAGE + 1)
    ctx.update(
        tab="overdue",
        rows=rows[:PAGE],
        total=stats.overdue(scope, now).count(),
        page=page,
        has_next=len(rows) > PAGE,
        tabs_query=_query(**ctx["f"]),
        export_url=reverse("supervise_export") + _query(**ctx["f"]),
        page_query=_query(org=ctx["f"]["org"]),
    )
    return render(request, "supervise/overdue.html", ctx)


@require_POST
@supervisor_required
@service_page
def escalate(request, case_id):
    """督办 one case; NotFound → 404, Forbidden → 403, anything else back to the list."""
    try:
        supervision.escalate(case_id, request.user, request.POST.get("comment", ""))
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, f"办件 {case_id}：{exc.message}")
    else:
        messages.success(request, f"已督办办件 {case_id}，已通知经办人及其负责人")
    back = reverse("supervise_overdue") + _query(
        org=request.POST.get("org", "").strip(), page=request.POST.get("page", "").strip()
    )
    return redirect(back)


# -- export -------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
PERCENT = "0.0%"
HOURS = "0.0"
WHEN = "yyyy-mm-dd hh:mm"


def _local(dt: datetime | None) -> datetime | None:
    """Excel has no time zones: write Beijing time without tzinfo."""
    return dt.astimezone(stats.SHANGHAI).replace(tzinfo=None) if dt else None


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list], formats=None):
    ws = wb.create_sheet(title)
    ws.append(headers)
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    formats = formats or {}
    for row in rows:
        ws.append(row)
        r = ws.max_row
        for col, value in enumerate(row, 1):
            cell = ws.cell(row=r, column=col)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            fmt = formats.get(col)
            if fmt and value is not None:
                cell.number_format = fmt
    for col, header in enumerate(headers, 1):
        width = max(
            [len(str(header)) * 2 + 2]
            + [len(str(row[col - 1] or "")) * 2 for row in rows[:200] if col - 1 < len(row)]
        )
        ws.column_dimensions[get_column_letter(col)].width = min(48, max(10, width))
    ws.freeze_panes = "A2"
    return ws


def workbook(rep: stats.Report, overdue_rows: list[dict]) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    s, sat, p = rep.summary, rep.satisfaction, rep.period
    summary = [
        ["统计期间", str(p)],
        ["统计单位", rep.scope.label],
        ["统计口径", "期间内提交的办件"],
        ["提交件数", s["submitted"]],
        ["办结件数", s["completed"]],
        ["办理中件数", s["open"]],
        ["不予受理/不予许可件数", s["refused"]],
        ["已撤回件数", s["withdrawn"]],
        ["已关闭件数", s["closed"]],
        ["按时办结件数", s["on_time"]],
        ["按时办结率", s["on_time_rate"]],
        ["曾超期件数", s["ever_overdue"]],
        ["平均办理时长（工作小时）", rep.handling["avg_hours"]],
        ["评价件数", sat["ratings"]],
        ["满意率（满意及非常满意）", sat["rate"]],
        *[[f"评价：{x['label']}", x["n"]] for x in sat["levels"]],
        ["当前超期件数（不限期间）", rep.overdue_total],
    ]
    ws = _sheet(wb, "汇总", ["指标", "数值"], summary)
    for row in ws.iter_rows(min_row=2):
        label, cell = row[0].value, row[1]
        if label in ("按时办结率", "满意率（满意及非常满意）") and cell.value is not None:
            cell.number_format = PERCENT
        elif label.startswith("平均办理时长") and cell.value is not None:
            cell.number_format = HOURS
    _sheet(
        wb,
        "按事项",
        [
            "事项编码",
            "事项名称",
            "提交件数",
            "办结件数",
            "办理中件数",
            "按时办结件数",
            "按时办结率",
            "曾超期件数",
            "平均办理时长（工作小时）",
        ],
        [
            [
                m["code"],
                m["name"],
                m["total"],
                m["completed"],
                m["open"],
                m["on_time"],
                m["on_time_rate"],
                m["ever_overdue"],
                m["avg_hours"],
            ]
            for m in rep.matters
        ],
        {7: PERCENT, 9: HOURS},
    )
    _sheet(
        wb,
        "按环节",
        ["事项编码", "事项名称", "环节代码", "环节", "办理结果", "件数"],
        [
            [x["matter_code"], x["matter"], x["state"], x["label"], x["outcome"], x["n"]]
            for x in rep.states
        ],
    )
    _sheet(
        wb,
        "按单位",
        [
            "单位代码",
            "单位名称",
            "提交件数",
            "办结件数",
            "办理中件数",
            "按时办结件数",
            "按时办结率",
            "曾超期件数",
        ],
        [
            [
                o["code"],
                o["name"],
                o["total"],
                o["completed"],
                o["open"],
                o["on_time"],
                o["on_time_rate"],
                o["ever_overdue"],
            ]
            for o in rep.orgs
        ],
        {7: PERCENT},
    )
    _sheet(
        wb,
        "超期清单",
        [
            "办件编号",
            "事项",
            "环节",
            "所属单位",
            "待办单位",
            "经办人",
            "环节时限",
            "超期（工作小时）",
            "超期天数",
            "督办次数",
            "最近督办时间",
        ],
        [
            [
                r["id"],
                r["matter"],
                r["state"],
                r["org"],
                r["unit"],
                r["handler"],
                _local(r["deadline"]),
                r["late_hours"],
                r["late_days"],
                r["escalations"],
                _local(r["last_escalated"]),
            ]
            for r in overdue_rows
        ],
        {7: WHEN, 8: HOURS, 11: WHEN},
    )
    return wb


@require_GET
@supervisor_required
@service_page
def export(request):
    scope = stats.scope_for(request.user, request.GET.get("org"))
    try:
        period = stats.period(request.GET.get("from"), request.GET.get("to"))
    except Invalid as exc:
        ctx = _filters(request, scope)
        ctx.update(tab="stats", error=exc.message, errors=exc.fields)
        ctx["tabs_query"] = _query(org=ctx["f"]["org"])
        return render(request, "supervise/dashboard.html", ctx, status=400)
    now = timezone.now()
    rep = stats.report(scope, period, now)
    rows = stats.overdue_rows(scope, now, limit=EXPORT_OVERDUE_LIMIT)
    buf = BytesIO()
    workbook(rep, rows).save(buf)
    name = f"督办统计_{period.start.isoformat()}_{period.end.isoformat()}.xlsx"
    response = HttpResponse(buf.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
