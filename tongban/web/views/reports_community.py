"""Report pages of the community-service packs: the food-sampling publication list (public),
home-work income per person per month (残联专干 and supervisors), the mediation agreement PDF
(whoever may see the case)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tongban.services import stats
from tongban.services.errors import Invalid, Unavailable
from tongban.services.reports import food, home_work, mediation
from tongban.web.views.common import service_page


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@require_GET
def food_publication(request):
    """食品安全监督抽检结果公示: public, like the announcement it replaces."""
    values = {k: request.GET.get(k, "").strip() for k in ("from", "to")}
    ctx = {"f": values}
    try:
        pub = food.publication(values["from"], values["to"])
    except Invalid as exc:
        ctx.update(error=exc.message, errors=exc.fields)
        return render(request, "reports/food.html", ctx, status=400)
    ctx["f"] = {"from": pub.period.start.isoformat(), "to": pub.period.end.isoformat()}
    ctx.update(pub=pub, pass_pct=_pct(pub.pass_rate))
    return render(request, "reports/food.html", ctx)


@require_GET
@login_required
@service_page
def home_work_income(request):
    """居家就业收入: income per person for one month, in the user's jurisdiction."""
    if not home_work.may_view(request.user):
        raise PermissionDenied(home_work.NO_SCOPE)
    scope = home_work.scope_for(request.user, request.GET.get("org"))
    choices = [{**o, "indent": "\u3000" * o["depth"]} for o in stats.org_choices(scope)]
    ctx = {
        "f": {
            "month": request.GET.get("month", "").strip(),
            "org": scope.org.code if scope.org else "",
        },
        "org_choices": choices,
        "scope": scope,
    }
    try:
        first = home_work.month(ctx["f"]["month"])
    except Invalid as exc:
        ctx.update(error=exc.message, errors=exc.fields)
        return render(request, "reports/home_work.html", ctx, status=400)
    ctx["f"]["month"] = first.strftime("%Y-%m")
    ctx["report"] = home_work.income(scope, first)
    return render(request, "reports/home_work.html", ctx)


@require_GET
@login_required
@service_page
def mediation_agreement(request, case_id):
    """人民调解协议书 PDF; 404 when the user may not see the case or there is no agreement."""
    try:
        case, pdf = mediation.agreement_for(case_id, request.user)
    except Unavailable as exc:
        return render(request, "error.html", {"message": exc.message}, status=503)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = quote(f"人民调解协议书-{case.pk}.pdf", safe="")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{name}"
    response["Cache-Control"] = "private, no-store"
    return response
