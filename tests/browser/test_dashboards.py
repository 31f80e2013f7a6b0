"""The supervision and request dashboards draw their charts (ECharts, offline, through the
shared tongban/charts.js) with the demo's cases, without a script error."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.conftest import ensure_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The charts each page must show with the demo's cases; any other chart on the page (the
# satisfaction bars, once residents have rated) must be drawn too.
CHARTS = {
    "/supervise/": {"chart-matters", "chart-states", "chart-orgs"},
    "/requests/dashboard/": {"chart-categories", "chart-heat"},
}


def test_dashboards_draw_every_chart(open_page, screens):
    from tongban.services import demo

    ensure_world()
    demo.build(with_cases=True)
    page = open_page(1280)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, "supervisor_xiangcheng")
    for url, ids in CHARTS.items():
        page.goto(url)
        present = set(page.locator(".chart").evaluate_all("els => els.map(e => e.id)"))
        assert ids <= present, (url, present)
        for chart in present:
            page.wait_for_selector(f"#{chart} svg", timeout=10_000)
            assert page.locator(f"#{chart} svg path").count() > 0, (url, chart)
        screens.shot(page, url.strip("/").replace("/", "-"))
    assert errors == []
