"""Attacks beside the access matrix:
CSRF on every form, and API writes that ignore the browser session."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.security.attacks import CSRF_PAGE, _road_files, _road_form, fresh_token
from tests.security.routes import LIST_PAGES, OBJECT_ROUTES
from tests.security.world import (
    COMMUNITY,
    PHONES,
    person_sheet,
    snapshot,
)
from tongban.services.demo import DEMO_PASSWORD, sample_pdf

# --- CSRF -----------------------------------------------------------------------------------


# form pattern → (who posts it, path, data). Every form of the site is here (checked below).
CSRF_FORMS = {
    "accounts/login/": (
        None,
        lambda w: "/accounts/login/",
        lambda w: {"username": "zhangsan", "password": DEMO_PASSWORD},
    ),
    "accounts/logout/": ("clerk_yangchenghu", lambda w: "/accounts/logout/", lambda w: {}),
    "admin/login/": (
        None,
        lambda w: "/admin/login/",
        lambda w: {"username": "zhangsan", "password": DEMO_PASSWORD, "next": "/admin/"},
    ),
    "matters/<slug:code>/apply/": (
        "zhangsan",
        lambda w: "/matters/road_occupation/apply/",
        lambda w: {**_road_form(), **_road_files()},
    ),
    "bundles/<slug:code>/apply/": (
        "zhangsan",
        lambda w: "/bundles/newborn/apply/",
        lambda w: {"f-child_name": "测试"},
    ),
    "my/cases/<int:case_id>/act/<slug:action>/": (
        "zhangsan",
        lambda w: f"/my/cases/{w.pk('open')}/act/withdraw/",
        lambda w: {"version": str(w.cases["open"].version)},
    ),
    "my/cases/<int:case_id>/rate/": (
        "zhangsan",
        lambda w: f"/my/cases/{w.pk('approved')}/rate/",
        lambda w: {"level": "1", "comment": "差"},
    ),
    "my/cases/<int:case_id>/report/<slug:key>/": (
        "zhangsan",
        lambda w: f"/my/cases/{w.pk('open')}/report/daily_report/",
        lambda w: {},
    ),
    "work/cases/<int:case_id>/act/<slug:action>/": (
        "clerk_yangchenghu",
        lambda w: f"/work/cases/{w.pk('open')}/act/accept/",
        lambda w: {"version": str(w.cases["open"].version)},
    ),
    "work/cases/<int:case_id>/reveal/": (
        "clerk_yangchenghu",
        lambda w: f"/work/cases/{w.pk('open')}/reveal/",
        lambda w: {"field": "contact_phone"},
    ),
    "work/cases/<int:case_id>/certificates/<str:number>/revoke/": (
        "approver_xiangcheng",  # issues road_occupation permits, so may revoke them
        lambda w: f"/work/cases/{w.pk('approved')}/certificates/{w.cert_number}/revoke/",
        lambda w: {"reason": "核查发现材料不实", "confirm": "1"},
    ),
    "work/bulk/": (
        "clerk_yangchenghu",
        lambda w: "/work/bulk/",
        lambda w: {"case": [str(w.pk("open"))], "action": "accept"},
    ),
    "work/register/<slug:code>/": (
        "clerk_yangchenghu",
        lambda w: "/work/register/road_occupation/",
        lambda w: {**_road_form(), **_road_files(), "for_user": "zhangsan"},
    ),
    "supervise/cases/<int:case_id>/escalate/": (
        "supervisor_xiangcheng",
        lambda w: f"/supervise/cases/{w.pk('overdue')}/escalate/",
        lambda w: {"comment": "请尽快办理"},
    ),
    "registry/<slug:kind>/import/": (
        "clerk_yangchenghu",
        lambda w: "/registry/person/import/",
        lambda w: {"file": SimpleUploadedFile("p.xlsx", person_sheet([])), "partial": "1"},
    ),
    "registry/<slug:kind>/<int:pk>/reveal/": (
        "clerk_yangchenghu",
        lambda w: f"/registry/person/{w.person_pk}/reveal/",
        lambda w: {"field": "id_number"},
    ),
    "registry/<slug:kind>/export.xlsx": (
        "clerk_yangchenghu",
        lambda w: "/registry/person/export.xlsx",
        lambda w: {"unmasked": "1"},
    ),
    "requests/new/": (
        "zhangsan",
        lambda w: "/requests/new/",
        lambda w: {"f-request_type": "咨询", "f-content": "请问社保卡怎么补办", "org": COMMUNITY},
    ),
    "requests/hotline/": (
        "dispatcher_xiangcheng",
        lambda w: "/requests/hotline/",
        lambda w: {"request_type": "咨询", "content": "请问社保卡怎么补办", "org": COMMUNITY},
    ),
    "requests/hotline/similar/": (
        "dispatcher_xiangcheng",
        lambda w: "/requests/hotline/similar/",
        lambda w: {"content": "漏水", "caller": PHONES["request"]},
    ),
    "requests/queue/<int:case_id>/dispatch/": (
        "dispatcher_xiangcheng",
        lambda w: f"/requests/queue/{w.pk('request')}/dispatch/",
        lambda w: {"category": "卫生计生"},
    ),
    **{
        f"requests/<int:case_id>/{verb}/": (
            "dispatcher_xiangcheng",
            (lambda v: lambda w: f"/requests/{w.pk('repeat')}/{v}/")(verb),
            lambda w: {"comment": "测试", "org": "320507103"},
        )
        for verb in ("merge", "unmerge", "relocate", "refer")
    },
    "requests/routing/": (
        "supervisor_xiangcheng",
        lambda w: "/requests/routing/",
        lambda w: {"category": "城乡建设", "org": "", "department": "dept_health"},
    ),
}


def test_every_form_is_in_the_csrf_table():
    posting = {r.pattern for r in OBJECT_ROUTES if r.serves == {"POST"} and not r.api}
    posting |= {p.pattern for p in LIST_PAGES if p.method == "POST" and not p.api}
    posting |= {
        "accounts/login/",
        "accounts/logout/",
        "matters/<slug:code>/apply/",
        "bundles/<slug:code>/apply/",
        "registry/<slug:kind>/import/",
        "requests/new/",
        "requests/hotline/",
        "requests/routing/",
    }
    assert posting <= set(CSRF_FORMS), sorted(posting - set(CSRF_FORMS))


def _csrf_client(s, who, variant: str) -> tuple[Client, dict]:
    c = s.client(who, enforce_csrf_checks=True)
    headers: dict = {}
    if variant == "missing":
        return c, headers
    cookie = fresh_token()
    c.cookies[settings.CSRF_COOKIE_NAME] = cookie
    if variant == "forged":
        headers["X-CSRFToken"] = fresh_token()  # a token, but not the victim's
    elif variant == "foreign-origin":
        headers["X-CSRFToken"] = cookie
        headers["Origin"] = "https://evil.example"
    elif variant == "valid":
        headers["X-CSRFToken"] = cookie
    return c, headers


@pytest.mark.parametrize("variant", ["missing", "forged", "foreign-origin"])
@pytest.mark.parametrize("pattern", sorted(CSRF_FORMS))
def test_csrf_missing_or_forged_is_refused_and_changes_nothing(s, pattern, variant):
    who, path, data = CSRF_FORMS[pattern]
    w = s.world
    c, headers = _csrf_client(s, who, variant)
    before = snapshot()
    r = c.post(path(w), data(w), headers=headers)
    assert r.status_code == 403, r.status_code
    assert CSRF_PAGE in r.content.decode(), "refused, but not by the CSRF check"
    assert snapshot() == before
    if pattern == "accounts/login/" or pattern == "admin/login/":
        assert "_auth_user_id" not in c.session
    if pattern == "accounts/logout/":
        assert c.get("/work/").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "pattern",
    [
        "work/cases/<int:case_id>/act/<slug:action>/",
        "work/cases/<int:case_id>/reveal/",
        "work/cases/<int:case_id>/certificates/<str:number>/revoke/",
        "my/cases/<int:case_id>/act/<slug:action>/",
        "supervise/cases/<int:case_id>/escalate/",
        "registry/<slug:kind>/<int:pk>/reveal/",
    ],
)
def test_csrf_control_a_valid_token_goes_through(s, pattern):
    """The control: with the right token the same request does change something."""
    who, path, data = CSRF_FORMS[pattern]
    w = s.world
    c, headers = _csrf_client(s, who, "valid")
    before = snapshot()
    r = c.post(path(w), data(w), headers=headers)
    assert r.status_code in (200, 302), r.status_code
    assert snapshot() != before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/cases", {"matter": "road_occupation", "data": {}}),
        ("/api/cases/{open}/actions/accept", {}),
        ("/api/uploads", None),
        ("/api/requests", {"data": {"request_type": "咨询", "content": "请问社保卡怎么补办"}}),
    ],
)
def test_api_writes_ignore_the_browser_session(s, path, body):
    """A session cookie (sent by the browser on its own) never authorises an API write,
    even with a valid CSRF token: writes need a bearer token."""
    w = s.world
    c, headers = _csrf_client(s, "clerk_yangchenghu", "valid")
    before = snapshot()
    url = path.format(open=w.pk("open"))
    if body is None:
        r = c.post(url, {"file": SimpleUploadedFile("a.pdf", sample_pdf("a"))}, headers=headers)
    else:
        r = c.post(url, json.dumps(body), content_type="application/json", headers=headers)
    assert r.status_code == 401, r.status_code
    assert snapshot() == before


def test_open311_post_needs_its_api_key_not_a_session(s):
    """Open311 POST is exempt from CSRF because only an api_key authorises it."""
    c = s.client("zhangsan")
    before = snapshot()
    r = c.post(
        "/open311/v2/requests.json",
        {
            "service_code": "general",
            "description": "路灯不亮了请修理",
            "address_string": "湘城大街",
        },
    )
    assert r.status_code == 403, r.content
    assert snapshot() == before
