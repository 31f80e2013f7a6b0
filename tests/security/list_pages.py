"""LIST_PAGES: one request to every page without an object id (re-exported by routes.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.security.world import COMMUNITY, IDS, MARK, PHONES, STREET, World


@dataclass(frozen=True)
class Page:
    """One request to a page without an object id."""

    pattern: str
    label: str
    method: str
    path: Callable[[World], str]
    body: Callable[[World], dict] | None = None
    api: bool = False
    anonymous_ok: bool = False  # the page is open to anonymous visitors too

    @property
    def key(self) -> str:
        return f"{self.pattern}[{self.label}]"


def _all_ids(w: World) -> dict:
    return {"case": [str(c.pk) for c in w.cases.values()], "action": "accept"}


def _register(w: World) -> dict:
    """A clerk of elsewhere filing a case for zhangsan in 湘城社区 (not their area)."""
    return {
        "f-applicant_name": "代办测试",
        "f-contact_phone": "13800000000",
        "f-location": "测试路 1 号",
        "f-area": "30",
        "f-purpose": "施工",
        "f-start_date": "2026-12-01",
        "f-end_date": "2026-12-10",
        "f-safety_commitment": "on",
        "for_user": "zhangsan",
        "org": COMMUNITY,
    }


LIST_PAGES = [
    Page("", "home", "GET", lambda w: "/", anonymous_ok=True),
    Page("my/", "mine", "GET", lambda w: "/my/"),
    Page("matters/<slug:code>/apply/", "form", "GET", lambda w: "/matters/road_occupation/apply/"),
    Page("bundles/<slug:code>/apply/", "form", "GET", lambda w: "/bundles/newborn/apply/"),
    Page("work/", "todo", "GET", lambda w: "/work/?tab=todo"),
    Page("work/", "done", "GET", lambda w: "/work/?tab=done"),
    Page("work/", "overdue", "GET", lambda w: "/work/?tab=overdue&matter=road_occupation"),
    Page("work/bulk/", "accept-all", "POST", lambda w: "/work/bulk/", _all_ids),
    Page("work/register/", "pick", "GET", lambda w: "/work/register/"),
    Page("work/register/<slug:code>/", "form", "GET", lambda w: "/work/register/road_occupation/"),
    Page(
        "work/register/<slug:code>/",
        "file-for-zhangsan",
        "POST",
        lambda w: "/work/register/road_occupation/",
        _register,
    ),
    Page("supervise/", "own", "GET", lambda w: "/supervise/"),
    Page("supervise/", "org", "GET", lambda w: f"/supervise/?org={STREET}"),
    Page("supervise/overdue/", "own", "GET", lambda w: "/supervise/overdue/"),
    Page("supervise/overdue/", "org", "GET", lambda w: f"/supervise/overdue/?org={COMMUNITY}"),
    Page("supervise/export.xlsx", "own", "GET", lambda w: "/supervise/export.xlsx"),
    Page("supervise/export.xlsx", "org", "GET", lambda w: f"/supervise/export.xlsx?org={STREET}"),
    Page("reports/resumption/", "own", "GET", lambda w: "/reports/resumption/"),
    Page("reports/resumption/", "org", "GET", lambda w: f"/reports/resumption/?org={STREET}"),
    Page("reports/home-work/", "own", "GET", lambda w: "/reports/home-work/"),
    Page("reports/home-work/", "org", "GET", lambda w: f"/reports/home-work/?org={STREET}"),
    Page("api/worklist", "todo", "GET", lambda w: "/api/worklist?tab=todo", api=True),
    Page("api/worklist", "overdue", "GET", lambda w: "/api/worklist?tab=overdue", api=True),
    Page("api/cases", "empty", "POST", lambda w: "/api/cases", lambda w: {}, api=True),
    Page("api/uploads", "empty", "POST", lambda w: "/api/uploads", lambda w: {}, api=True),
    Page("registry/", "index", "GET", lambda w: "/registry/"),
    Page("registry/<slug:kind>/", "own", "GET", lambda w: "/registry/person/"),
    Page("registry/<slug:kind>/", "org", "GET", lambda w: f"/registry/person/?org={STREET}"),
    Page("registry/<slug:kind>/", "q-mark", "GET", lambda w: f"/registry/person/?q={MARK}"),
    Page(
        "registry/<slug:kind>/", "q-id", "GET", lambda w: f"/registry/person/?q={IDS['registry']}"
    ),
    Page(
        "registry/<slug:kind>/lookup",
        "q-id",
        "GET",
        lambda w: f"/registry/person/lookup?q={IDS['registry']}",
    ),
    Page(
        "registry/<slug:kind>/lookup",
        "q-mark",
        "GET",
        lambda w: f"/registry/person/lookup?q={MARK}",
    ),
    Page(
        "registry/<slug:kind>/template.xlsx",
        "person",
        "GET",
        lambda w: "/registry/person/template.xlsx",
    ),
    Page(
        "registry/<slug:kind>/export.xlsx", "own", "GET", lambda w: "/registry/person/export.xlsx"
    ),
    Page(
        "registry/<slug:kind>/export.xlsx",
        "org",
        "GET",
        lambda w: f"/registry/person/export.xlsx?org={STREET}",
    ),
    Page(
        "registry/<slug:kind>/export.xlsx",
        "unmasked",
        "POST",
        lambda w: "/registry/person/export.xlsx",
        lambda w: {"unmasked": "1", "q": IDS["registry"]},
    ),
    Page("registry/<slug:kind>/import/", "form", "GET", lambda w: "/registry/person/import/"),
    Page("requests/new/", "form", "GET", lambda w: "/requests/new/"),
    Page("requests/hotline/", "form", "GET", lambda w: "/requests/hotline/"),
    Page(
        "requests/hotline/similar/",
        "same-text",
        "POST",
        lambda w: "/requests/hotline/similar/",
        lambda w: {
            "content": w.cases["request"].data["content"],
            "address": w.cases["request"].data.get("address", ""),
            "caller": PHONES["request"],
        },
    ),
    Page("requests/queue/", "todo", "GET", lambda w: "/requests/queue/"),
    Page("requests/queue/", "registered", "GET", lambda w: "/requests/queue/?state=registered"),
    Page("requests/routing/", "table", "GET", lambda w: "/requests/routing/"),
    Page("requests/routing/export.xlsx", "table", "GET", lambda w: "/requests/routing/export.xlsx"),
    Page("requests/dashboard/", "own", "GET", lambda w: "/requests/dashboard/"),
    Page("requests/dashboard/", "org", "GET", lambda w: f"/requests/dashboard/?org={STREET}"),
    Page("api/requests", "empty", "POST", lambda w: "/api/requests", lambda w: {}, api=True),
]
LIST_ROUTES = {p.pattern for p in LIST_PAGES}
