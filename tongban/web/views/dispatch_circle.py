"""The service-circle page (服务圈): coverage of a place type, an offline ECharts map and
suggested new sites. A GET form, so a result is a link that can be shared."""

from __future__ import annotations

from django.shortcuts import render

from tongban.services import dispatch_coverage
from tongban.services.errors import Invalid
from tongban.web.views.common import service_page
from tongban.web.views.work import staff_required

PARAMS = ("place_type", "mode", "detour", "minutes", "k", "source", "cell_km")


@staff_required
@service_page
def circle(request):
    types = dispatch_coverage.place_types(request.user)
    form = {p: request.GET.get(p, "")[:20] for p in PARAMS}
    form["mode"] = form["mode"] or "walk"
    form["source"] = form["source"] or "grid"
    for key, default in (("detour", "1.3"), ("minutes", "15"), ("k", "3"), ("cell_km", "0.5")):
        form[key] = form[key] or default
    result, error = None, None
    if form["place_type"]:
        try:
            result = dispatch_coverage.service_circle(
                request.user,
                form["place_type"],
                mode=form["mode"],
                detour=form["detour"],
                minutes=form["minutes"],
                k=form["k"],
                source=form["source"],
                cell_km=form["cell_km"],
            )
        except Invalid as exc:
            error = exc.message
    return render(
        request,
        "dispatch/circle.html",
        {
            "types": types,
            "form": form,
            "result": result,
            "error": error,
            "sources": dispatch_coverage.SOURCES,
        },
    )
