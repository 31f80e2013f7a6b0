"""复工复产统计 (/reports/resumption/): reopened enterprises and shops and the two rates (over
the registered businesses, over those that filed), per street and community of the viewer's
scope, as a table and an ECharts bar chart."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from tongban.services import stats
from tongban.services.errors import Invalid
from tongban.services.reports import resumption
from tongban.web.views.common import service_page

TEMPLATE = "reports/resumption.html"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _display(row: resumption.Row, depth: int) -> dict:
    return {
        "row": row,
        "depth": depth,
        "rate": _pct(row.rate),
        "ent_rate": _pct(row.ent_rate),
        "shop_rate": _pct(row.shop_rate),
        "filed_rate": _pct(row.filed_rate),
        "ent_filed_rate": _pct(row.ent_filed_rate),
        "shop_filed_rate": _pct(row.shop_filed_rate),
    }


def _table(rates: resumption.Rates) -> list[dict]:
    """Street rows, each followed by its communities (indented)."""
    out = []
    for street in rates.streets:
        out.append(_display(street, 0))
        out.extend(_display(c, 1) for c in street.children)
    return out


@require_GET
@login_required
@service_page
def page(request):
    f = {k: request.GET.get(k, "").strip() for k in ("from", "to", "org")}
    scope = resumption.scope_for(request.user, f["org"])  # Forbidden → 403, NotFound → 404
    f["org"] = scope.org.code if scope.org else ""
    choices = [{**o, "indent": "\u3000" * o["depth"]} for o in stats.org_choices(scope)]
    ctx = {
        "f": f,
        "scope": scope,
        "org_choices": choices,
        "basis": resumption.ENTERPRISE_REGISTRY.basis,
        "filed_basis": resumption.FILED_BASIS,
    }
    period = None
    if f["from"] or f["to"]:
        try:
            period = stats.period(f["from"], f["to"])
        except Invalid as exc:
            ctx.update(error=exc.message, errors=exc.fields)
            return render(request, TEMPLATE, ctx, status=400)
        f.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    rates = resumption.resumption_rates(request.user, f["org"] or None, period=period)
    ctx.update(
        rates=rates,
        basis=rates.basis,
        filed_basis=rates.filed_basis,
        total=_display(rates.total, 0),
        rows=_table(rates),
        data=rates.chart_data(),
    )
    return render(request, TEMPLATE, ctx)


# Included by tongban/web/urls_reports.py under /reports/resumption/.
urlpatterns = [path("", page, name="reports_resumption")]
