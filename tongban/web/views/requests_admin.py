"""诉求 pages, part three: the routing table (派单规则, with xlsx export and import, inside
the user's jurisdiction) and the dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from tongban.services import requests, stats
from tongban.services.errors import Invalid, ServiceError
from tongban.services.reports import requests as report
from tongban.web.views.common import service_page
from tongban.web.views.requests import _department_choices, roles_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RULE_VIEWERS = ("supervisor", "head", "dispatcher")

# -- the routing table ------------------------------------------------------------------------


@roles_required(*RULE_VIEWERS, staff_ok=True)
def routing(request):
    """The rules the user reads (those that can apply in their seats); supervisors change
    the rules of their own streets and communities, platform admins every rule."""
    user = request.user
    editor = requests.may_edit(user)
    errors, message, status = {}, "", 200
    if request.method == "POST":
        if not editor:
            raise PermissionDenied(requests.rules.NOT_EDITOR)
        p = request.POST
        try:
            if p.get("delete"):
                requests.delete_rule(user, int(p["delete"]))
                messages.success(request, "已删除派单规则")
            elif p.get("intent") == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    raise Invalid("请选择要导入的 xlsx 文件", {"file": "必选"})
                n = requests.import_rules(user, upload.read(requests.MAX_IMPORT_BYTES + 1))
                scope = "原有规则已替换" if user.is_staff else "您督办范围内的原有规则已替换"
                messages.success(request, f"已导入 {n} 条派单规则（{scope}）")
            else:
                requests.save_rule(
                    user,
                    p.get("category", ""),
                    p.get("org", ""),
                    p.get("department", ""),
                    p.get("note", ""),
                )
                messages.success(request, "已保存派单规则")
        except (ServiceError, ValueError) as exc:
            message = getattr(exc, "message", "输入有误")
            errors = getattr(exc, "fields", {})
            status = getattr(exc, "status", 400)
        else:
            return redirect("requests:routing")
    labels = dict(_department_choices())
    rules = [
        {
            "rule": r,
            "department": labels.get(r.department, r.department),
            "editable": requests.may_edit_rule(user, r.org),
        }
        for r in requests.visible_rules(user)
    ]
    ctx = {
        "rules": rules,
        "editor": editor,
        "staff": user.is_staff,
        "categories": requests.category_options(),
        "departments": _department_choices(),
        "errors": errors,
        "message": message,
    }
    return render(request, "requests/routing.html", ctx, status=status)


@roles_required(*RULE_VIEWERS, staff_ok=True)
@require_GET
def routing_export(request):
    response = HttpResponse(requests.export_rules(request.user), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "派单规则.xlsx")
    return response


# -- dashboard ----------------------------------------------------------------------------------


def _pct(value):
    return "—" if value is None else f"{value * 100:.1f}%"


@login_required
@require_GET
@service_page
def dashboard(request):
    if not report.may_view(request.user):
        raise PermissionDenied(report.NO_SCOPE)
    scope = report.scope_for(request.user, request.GET.get("org"))
    f = {
        "from": request.GET.get("from", "").strip(),
        "to": request.GET.get("to", "").strip(),
        "org": scope.org.code if scope.org else "",
    }
    choices = [{**o, "indent": "\u3000" * o["depth"]} for o in stats.org_choices(scope)]
    ctx = {"f": f, "org_choices": choices, "scope": scope}
    try:
        period = stats.period(f["from"], f["to"])
    except Invalid as exc:
        ctx.update(error=exc.message, errors=exc.fields)
        return render(request, "requests/dashboard.html", ctx, status=400)
    d = report.dashboard(scope, period)
    f.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    ctx.update(
        d=d,
        period=period,
        response_pct=_pct(d.response["rate"]),
        resolution_pct=_pct(d.resolution["rate"]),
        satisfaction_pct=_pct(d.satisfaction["rate"]),
        levels=[(x, d.satisfaction["levels"].get(x, 0)) for x in report.LEVELS],
        data=d.chart_data(),
    )
    return render(request, "requests/dashboard.html", ctx)
