"""Every URL pattern of the site, sorted into what the access matrix does with it.

- PUBLIC: public by design; checked only for leaking the objects.
- OBJECT_ROUTES: carry an object id (case, certificate, bundle, registry record, job):
  every outsider gets 403/404 (anonymous: a redirect to the login page, or 401 from the
  API), never data.
- LIST_ROUTES: pages without an object id (worklists, dashboards, exports, forms): any
  status below 500, but never one of the objects' data or links.
- ELSEWHERE: tested by a dedicated test (named).
- Django admin (ADMIN_PREFIX): every page redirects non-staff users to the admin login.

LIST_PAGES lives in list_pages.py (re-exported here).

`test_every_url_is_classified` walks the resolver: a new URL must be added here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.security.list_pages import LIST_PAGES, LIST_ROUTES, Page  # noqa: F401 (re-exported)
from tests.security.world import CASE_OBJECTS, MARK, STREET, World

ADMIN_PREFIX = "admin/"

PUBLIC: dict[str, Callable[[World], str]] = {
    "healthz": lambda w: "/healthz",
    "matters/": lambda w: f"/matters/?q={MARK}",
    "matters/<slug:code>/": lambda w: "/matters/road_occupation/",
    "bundles/<slug:code>/": lambda w: "/bundles/newborn/",
    "verify/": lambda w: "/verify/",
    "verify/<str:number>": lambda w: f"/verify/{w.cert_number}",
    "accounts/login/": lambda w: "/accounts/login/",
    "api/matters": lambda w: "/api/matters",
    "api/matters/<code>": lambda w: "/api/matters/road_occupation",
    "api/openapi.json": lambda w: "/api/openapi.json",
    "api/docs": lambda w: "/api/docs",
    "api/": lambda w: "/api/",
    "reports/food/": lambda w: "/reports/food/",
    # Open311 GeoReport v2 publishes every request's text, address and status, by the
    # standard; never the caller's name or phone (PUBLISHES_REQUESTS: checked for PII only).
    "open311/v2/": lambda w: "/open311/v2/",
    "open311/v2/^discovery\\.(?P<fmt>xml|json)$": lambda w: "/open311/v2/discovery.json",
    "open311/v2/^services\\.(?P<fmt>xml|json)$": lambda w: "/open311/v2/services.xml",
    "open311/v2/^services/(?P<code>[^/]{1,64}?)\\.(?P<fmt>xml|json)$": (
        lambda w: "/open311/v2/services/general.json"
    ),
    "open311/v2/^requests\\.(?P<fmt>xml|json)$": lambda w: "/open311/v2/requests.json",
    "open311/v2/^requests/(?P<request_id>[^/]{1,40}?)\\.(?P<fmt>xml|json)$": (
        lambda w: f"/open311/v2/requests/{w.pk('request')}.xml"
    ),
    "open311/v2/^tokens/(?P<token>[^/]{1,40}?)\\.(?P<fmt>xml|json)$": (
        lambda w: f"/open311/v2/tokens/{w.request_token}.json"
    ),
    "open311/v2/^(?P<path>.*)$": lambda w: "/open311/v2/nothing.json",
    "requests/track/": lambda w: f"/requests/track/?token={w.request_token}",
}
PUBLISHES_REQUESTS = {p for p in PUBLIC if p.startswith("open311/")} | {"requests/track/"}

ELSEWHERE = {
    "accounts/logout/": "test_attacks_login.py::test_logout_ends_the_session_on_the_server",
    "dispatch/": "tests/dispatch/test_pages.py::test_residents_cannot_use_dispatch",
    "dispatch/template.xlsx": "tests/dispatch/test_pages.py::test_residents_cannot_use_dispatch",
    "dispatch/circle/": (
        "tests/dispatch/test_pages.py::test_circle_does_not_show_other_districts_places"
    ),
    **{
        f"dispatch/<int:pk>/{r.replace('{line}', '<int:line_id>')}": (
            "tests/dispatch/test_pages.py::test_other_district_cannot_see_the_set"
        )
        for r in (
            "",
            "lines/",
            "lines/{line}/delete/",
            "rules/",
            "upload/",
            "plan/",
            "drop/",
            "roster/",
            "roster.xlsx",
        )
    },
    "pick/<slug:kind>/": (
        "tests/dispatch/test_pickers.py::test_search_is_scoped_and_choosing_fills_the_siblings"
    ),
    "pick/<slug:kind>/<int:pk>/": (
        "tests/dispatch/test_pickers.py::test_search_is_scoped_and_choosing_fills_the_siblings"
    ),
}

# The case the applicant (POST …/act/<action>/) or staff (work/…/act/, API) would act with.
STAFF_ACTION = {
    "open": "accept",
    "approved": "accept",
    "overdue": "accept",
    "request": "dispatch",
    "birth": "issue",
    "mediation": "record_payment",
    "repeat": "accept",
}
REVEAL_FIELD = {
    "open": "contact_phone",
    "approved": "contact_phone",
    "overdue": "contact_phone",
    "request": "contact_phone",
    "birth": "mother_id",
    "mediation": "parties.0.party_id_card",
    "repeat": "contact_phone",
}


@dataclass(frozen=True)
class Route:
    pattern: str
    objects: tuple[str, ...]
    make: Callable[[World, str], str]
    serves: frozenset[str] = frozenset({"GET", "POST"})  # methods the view answers
    api: bool = False
    body: Callable[[World, str], dict] = field(default=lambda w, o: {})


def _material(w: World, o: str) -> str:
    case = w.cases[o]
    refs = [r for files in case.materials.values() for r in files]
    return f"/files/{case.pk}/{refs[0]['sha256'] if refs else w.sha}"


def _form(w: World, o: str) -> dict:
    """What a real form would post (so the view gets as far as its permission check)."""
    case = w.cases.get(o)
    return {
        "comment": f"安全测试{MARK}",
        "version": str(case.version) if case else "1",
        "field": REVEAL_FIELD.get(o, "id_number"),
        "level": "1",
        "extension": "1",
        "unmasked": "1",
        "i-session_date": "2026-11-04",
        "org": STREET,  # relocate: a street of the request's own district
        "category": "城乡建设",
        "department": "dept_construction",
    }


GET = frozenset({"GET"})
POST = frozenset({"POST"})
CASES = CASE_OBJECTS
ESCALATABLE = (*CASE_OBJECTS, "overdue")

OBJECT_ROUTES = [
    Route("my/cases/<int:case_id>/", CASES, lambda w, o: f"/my/cases/{w.pk(o)}/"),
    Route(
        "my/cases/<int:case_id>/act/<slug:action>/",
        CASES,
        lambda w, o: f"/my/cases/{w.pk(o)}/act/withdraw/",
        POST,
        body=_form,
    ),
    Route(
        "my/cases/<int:case_id>/rate/",
        CASES,
        lambda w, o: f"/my/cases/{w.pk(o)}/rate/",
        POST,
        body=_form,
    ),
    Route(
        "my/cases/<int:case_id>/report/<slug:key>/",
        CASES,
        lambda w, o: f"/my/cases/{w.pk(o)}/report/daily_report/",
        POST,
        body=_form,
    ),
    Route("work/cases/<int:case_id>/", CASES, lambda w, o: f"/work/cases/{w.pk(o)}/"),
    Route(
        "work/cases/<int:case_id>/act/<slug:action>/",
        CASES,
        lambda w, o: f"/work/cases/{w.pk(o)}/act/{STAFF_ACTION[o]}/",
        POST,
        body=_form,
    ),
    Route(
        "work/cases/<int:case_id>/reveal/",
        CASES,
        lambda w, o: f"/work/cases/{w.pk(o)}/reveal/",
        POST,
        body=_form,
    ),
    Route("files/<int:case_id>/<str:sha>", CASES, _material),
    Route(
        "supervise/cases/<int:case_id>/escalate/",
        ESCALATABLE,
        lambda w, o: f"/supervise/cases/{w.pk(o)}/escalate/",
        POST,
        body=_form,
    ),
    Route(
        "reports/mediation/<int:case_id>/agreement.pdf",
        CASES,
        lambda w, o: f"/reports/mediation/{w.pk(o)}/agreement.pdf",
        GET,
    ),
    Route(
        "certificates/<str:number>.pdf",
        ("approved",),
        lambda w, o: f"/certificates/{w.cert_number}.pdf",
    ),
    Route(
        "work/cases/<int:case_id>/certificates/<str:number>/revoke/",
        ("approved",),
        lambda w, o: f"/work/cases/{w.pk(o)}/certificates/{w.cert_number}/revoke/",
        POST,
        body=lambda w, o: {"reason": f"安全测试{MARK}", "confirm": "1"},
    ),
    Route(
        "api/certificates/<number>/revoke",
        ("approved",),
        lambda w, o: f"/api/certificates/{w.cert_number}/revoke",
        POST,
        api=True,
        body=lambda w, o: {"reason": f"安全测试{MARK}"},
    ),
    Route("my/bundles/<int:bundle_id>/", ("bundle",), lambda w, o: f"/my/bundles/{w.bundle.pk}/"),
    Route("api/cases/<case_id>", CASES, lambda w, o: f"/api/cases/{w.pk(o)}", GET, api=True),
    Route(
        "api/cases/<case_id>/actions/<action>",
        CASES,
        lambda w, o: f"/api/cases/{w.pk(o)}/actions/{STAFF_ACTION[o]}",
        POST,
        api=True,
        body=lambda w, o: {"comment": f"安全测试{MARK}"},
    ),
    Route(
        "api/cases/<case_id>/events",
        CASES,
        lambda w, o: f"/api/cases/{w.pk(o)}/events",
        GET,
        api=True,
    ),
    Route("requests/<int:case_id>/", ("request", "open"), lambda w, o: f"/requests/{w.pk(o)}/"),
    *[
        Route(
            f"requests/<int:case_id>/{verb}/",
            ("request", "repeat"),
            (lambda v: lambda w, o: f"/requests/{w.pk(o)}/{v}/")(verb),
            POST,
            body=_form,
        )
        for verb in ("merge", "unmerge", "relocate", "refer")
    ],
    Route(
        "requests/queue/<int:case_id>/dispatch/",
        ("request", "repeat"),
        lambda w, o: f"/requests/queue/{w.pk(o)}/dispatch/",
        POST,
        body=_form,
    ),
    Route(
        "registry/<slug:kind>/<int:pk>/",
        ("person",),
        lambda w, o: f"/registry/person/{w.person_pk}/",
    ),
    Route(
        "registry/<slug:kind>/<int:pk>/reveal/",
        ("person",),
        lambda w, o: f"/registry/person/{w.person_pk}/reveal/",
        POST,
        body=lambda w, o: {"field": "id_number"},
    ),
    Route("registry/jobs/<uuid:token>/", ("job",), lambda w, o: f"/registry/jobs/{w.job_token}/"),
    Route(
        "registry/jobs/<uuid:token>/progress",
        ("job",),
        lambda w, o: f"/registry/jobs/{w.job_token}/progress",
    ),
    Route(
        "registry/jobs/<uuid:token>/rejected.xlsx",
        ("job",),
        lambda w, o: f"/registry/jobs/{w.job_token}/rejected.xlsx",
    ),
]


def all_patterns() -> list[str]:
    """Every URL pattern of the site as one route string, e.g. `work/cases/<int:case_id>/`."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return list(walk(get_resolver().url_patterns))
