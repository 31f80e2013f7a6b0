"""Registry pickers in forms: a field declared with ``pick_from: <kind>`` gets, for staff,
a search box (HTMX) that lists matching registry records and, on a choice, fills the
field and its siblings per ``pick_fill``.

- ``GET /pick/<kind>/?_pick_q=…&_pick_fill=target:column&…&_pick_name=<input name>
  &_pick_key=<field key>``: the matches (``services.registry.lookup``: the user's
  jurisdiction only, masked).
- ``POST /pick/<kind>/<id>/`` with the same parameters: the record's full values
  (``services.registry.resolve``, logged in RevealLog like a reveal) as a snippet whose
  script fills the inputs ``<prefix><target>`` of the enclosing form, where ``prefix`` is
  the picking input's name without its key (so a table row fills its own row).

The fill map comes from the form (it only says which inputs receive which columns); the
values come from the server, scoped to the user. No per-matter code.
"""

from __future__ import annotations

import re

from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from tongban.services import registry
from tongban.services.errors import NotFound
from tongban.web.views.common import client_ip, service_page
from tongban.web.views.work import staff_required

_NAME = re.compile(r"^[a-z0-9_-]{1,200}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _params(params, kind) -> tuple[dict[str, str], str]:
    """The fill map (form key → column, unknown columns dropped) and the input prefix."""
    fill: dict[str, str] = {}
    for pair in params.getlist("_pick_fill"):
        target, _, column = pair.partition(":")
        if _KEY.match(target) and column in kind.by_key and column != "org":
            fill[target] = column
    name, key = params.get("_pick_name", ""), params.get("_pick_key", "")
    prefix = ""
    if _NAME.match(name) and _KEY.match(key) and name.endswith(key):
        prefix = name[: -len(key)]
        fill = fill or {key: kind.title[0]}
    return fill, prefix


@staff_required
@require_GET
@service_page
def search(request, kind):
    k = registry.kind_of(kind)
    query = request.GET.get("_pick_q", "").strip()
    results = registry.lookup(kind, request.user, query, 8)
    return render(
        request, "partials/pick_results.html", {"kind": k, "results": results, "query": query}
    )


@staff_required
@require_POST
@service_page
def choose(request, kind, pk):
    k = registry.kind_of(kind)
    fill, prefix = _params(request.POST, k)
    if not fill:
        raise NotFound("没有要填写的字段")
    values = registry.resolve(f"{k.name}:{pk}", request.user, client_ip(request))
    filled = {
        prefix + target: "" if values.get(column) is None else str(values[column])
        for target, column in fill.items()
    }
    label = " ".join(str(values.get(c) or "") for c in k.title[:1])
    return render(
        request, "partials/pick_filled.html", {"kind": k, "filled": filled, "label": label}
    )
