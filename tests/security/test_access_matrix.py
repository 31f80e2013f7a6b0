"""The access matrix: every role from elsewhere × every URL × the objects of 阳澄湖镇.

An outsider gets 403 or 404 for every page, action, file and API endpoint that names an
object (anonymous: the login page, or 401 from the API), pages without an id never show
the objects, ids guessed in sequence answer exactly like ids that do not exist, and
nothing the outsider sends changes any state. See routes.py for the URL table.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.security.conftest import ACTOR_IDS, ACTORS
from tests.security.routes import (
    ADMIN_PREFIX,
    ELSEWHERE,
    LIST_PAGES,
    LIST_ROUTES,
    OBJECT_ROUTES,
    PUBLIC,
    PUBLISHES_REQUESTS,
    all_patterns,
)
from tests.security.world import GUSU, STREET, XIANGCHENG, leaked, snapshot

# Holes the matrix found, (route pattern, method, who, object) → the xfail reason; "who"
# is "user" (any signed-in outsider) or "anonymous", object "*" any. Remove a line once
# the lead has fixed it (strict xfail: the fixed tests then fail as XPASS).
HOLES: dict[tuple[str, str, str, str], str] = {}

TARGETS = [(r, o) for r in OBJECT_ROUTES for o in r.objects]
TARGET_IDS = [f"{r.pattern.rstrip('/')}[{o}]" for r, o in TARGETS]


def send(s, actor, method: str, path: str, body: dict | None, api: bool):
    c = s.client(None if api else actor.username)
    headers = s.bearer(actor.username) if api else {}
    if method == "GET":
        return c.get(path, headers=headers)
    if api:
        return c.post(
            path, data=json.dumps(body or {}), content_type="application/json", headers=headers
        )
    return c.post(path, body or {}, headers=headers)


def _hole(pattern: str, method: str, actor, obj: str) -> str | None:
    who = "anonymous" if actor.username is None else "user"
    return HOLES.get((pattern, method, who, obj)) or HOLES.get((pattern, method, who, "*"))


def _params():
    out = []
    for actor in ACTORS:
        for (route, obj), tid in zip(TARGETS, TARGET_IDS, strict=True):
            for method in ("GET", "POST"):
                marks = []
                reason = _hole(route.pattern, method, actor, obj)
                if reason:
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                out.append(
                    pytest.param(
                        actor, route, obj, method, id=f"{actor.key}-{tid}-{method}", marks=marks
                    )
                )
    return out


# --- the URL table stays complete ---------------------------------------------------------


def test_every_url_is_classified():
    """A URL added to the site must be put in routes.py (public, object, list or elsewhere)."""
    patterns = all_patterns()
    objects = {r.pattern for r in OBJECT_ROUTES}
    known = set(PUBLIC) | objects | LIST_ROUTES | set(ELSEWHERE)
    new = sorted(p for p in patterns if p not in known and not p.startswith(ADMIN_PREFIX))
    assert not new, f"URLs missing from tests/security/routes.py: {new}"
    stale = sorted(known - set(patterns))
    assert not stale, f"routes.py lists URLs the site no longer has: {stale}"
    overlap = (set(PUBLIC) & objects) | (set(PUBLIC) & LIST_ROUTES) | (objects & LIST_ROUTES)
    assert not overlap, overlap


def test_every_role_is_an_attacker(s):
    """One outsider per role code in Membership, none of them with any seat over 阳澄湖镇."""
    from tongban.store.models import Membership

    names = [a.username for a in ACTORS if a.username]
    seats = Membership.objects.filter(user__username__in=names).select_related("org", "user")
    assert {m.role for m in seats} == set(Membership.objects.values_list("role", flat=True))
    for m in seats:
        assert not m.org.path.startswith(f"{XIANGCHENG}/{STREET}"), (m.user.username, m.org.path)
        assert m.org.path != XIANGCHENG, (m.user.username, "district seats of 相城区 may see")
    assert any(m.org.path.startswith(GUSU) for m in seats)


# --- every outsider × every object URL ------------------------------------------------------


@pytest.mark.parametrize(("actor", "route", "obj", "method"), _params())
def test_outsider_gets_403_or_404_and_no_data(s, actor, route, obj, method):
    w = s.world
    path = route.make(w, obj)
    before = snapshot()
    r = send(s, actor, method, path, route.body(w, obj) if method == "POST" else None, route.api)
    allowed = {403, 404}
    if method not in route.serves:
        allowed.add(405)  # answered before any lookup: the same for every id
    if actor.username is None:
        allowed |= {401} if route.api else {302}
    assert r.status_code in allowed, (r.status_code, r.get("Location"))
    if r.status_code == 302:
        assert r["Location"].startswith("/accounts/login/"), r["Location"]
    assert not leaked(r, w.secrets, path)
    assert snapshot() == before, "an outsider's request changed state"


# --- pages without an id --------------------------------------------------------------------


@pytest.mark.parametrize("page", LIST_PAGES, ids=[p.key for p in LIST_PAGES])
@pytest.mark.parametrize("actor", ACTORS, ids=ACTOR_IDS)
def test_pages_without_id_never_show_the_objects(s, actor, page):
    w = s.world
    path = page.path(w)
    before = snapshot()
    r = send(s, actor, page.method, path, page.body(w) if page.body else None, page.api)
    assert r.status_code < 500
    if actor.username is None and not page.anonymous_ok:
        assert r.status_code in ((401,) if page.api else (302,))
    assert not leaked(r, w.secrets + w.links, path)
    if r.headers.get("Content-Type", "").startswith("application/json") and r.status_code == 200:
        items = r.json().get("items") if isinstance(r.json(), dict) else None
        ids = {c.pk for c in w.cases.values()}
        assert not ids & {i["id"] for i in items or []}
    assert snapshot() == before


@pytest.mark.parametrize("pattern", sorted(PUBLIC))
@pytest.mark.parametrize("who", ["anonymous", "lisi", "clerk_canglang"])
def test_public_pages_show_no_object_data(s, who, pattern):
    w = s.world
    path = PUBLIC[pattern](w)
    c = s.client(None if who == "anonymous" else who)
    r = c.get(path)
    assert r.status_code in (200, 404), r.status_code
    needles = w.pii if pattern in PUBLISHES_REQUESTS else w.secrets + w.links
    assert not leaked(r, needles, path)


# --- the same street, least privilege -------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("clerk_yangchenghu", {"open", "approved"}),
        ("reviewer_yangchenghu", {"open", "approved"}),
        ("mediator_yangchenghu", {"mediation"}),
        ("grid_yangchenghu1", set()),
        ("dispatcher_xiangcheng", {"request"}),
        ("dept_construction_xiangcheng", {"request"}),
        ("birth_registrar_xiangcheng", {"birth"}),
        ("supervisor_xiangcheng", {"open", "approved", "request", "birth", "mediation"}),
        ("head_yangchenghu", {"open", "approved", "request", "birth", "mediation"}),
        ("head_weitang", set()),
    ],
)
def test_staff_see_only_the_matters_their_role_takes_part_in(s, username, sees):
    w = s.world
    c = s.client(username)
    for label in ("open", "approved", "request", "birth", "mediation"):
        r = c.get(f"/work/cases/{w.pk(label)}/")
        assert r.status_code == (200 if label in sees else 404), (label, r.status_code)


# --- ids guessed in sequence ----------------------------------------------------------------

GUESSERS = [
    "lisi",
    "ent_demo",
    "clerk_canglang",
    "clerk_weitang",
    "grid_weitang1",
    "supervisor_gusu",
    "head_weitang",
    "dispatcher_gusu",
    "mediator_weitang",
    "birth_registrar_gusu",
    "clerk_yangchenghu",
    "mediator_yangchenghu",
]
CSRF_VALUE = re.compile(r"\b[A-Za-z0-9]{64}\b")  # a masked CSRF token, fresh on every page
MISSING = 10**9


def _get(c, path: str, headers: dict | None = None) -> tuple[int, str]:
    """Status and body (the path itself and CSRF tokens blanked) of a GET."""
    r = c.get(path, headers=headers or {})
    text = r.content.decode("utf-8", "replace").replace(path, "<PATH>")
    return r.status_code, CSRF_VALUE.sub("…", text)


@pytest.mark.parametrize("username", GUESSERS)
def test_sequential_ids_answer_like_missing_ones(s, username):
    """Walking ids 1…N (around every object) answers 404, byte for byte like an id that
    does not exist, for every id the user may not see; never 200."""
    from django.contrib.auth import get_user_model

    from tongban.services import cases
    from tongban.services.context import actor_for
    from tongban.store.models import Bundle, Case, Person

    w = s.world
    user = get_user_model().objects.get(username=username)
    actor = actor_for(user)
    c = s.client(username)
    api = s.bearer(username)
    pks = sorted(c.pk for c in w.cases.values())
    wanted = sorted({1, 2, 3, *range(max(1, pks[0] - 3), pks[-1] + 4)})
    templates = [
        ("/my/cases/{}/", {}),
        ("/work/cases/{}/", {}),
        ("/files/{}/" + w.sha, {}),
        ("/reports/mediation/{}/agreement.pdf", {}),
        ("/api/cases/{}", api),
        ("/api/cases/{}/events", api),
        ("/api/cases/{}", {}),  # the browser session reads the API too
    ]
    seen = 0
    for tpl, headers in templates:
        missing = _get(c, tpl.format(MISSING), headers)
        assert missing[0] in (403, 404), (tpl, missing[0])
        for pk in wanted:
            case = Case.objects.filter(pk=pk).first()
            if case is not None and cases.visible(case, actor):
                seen += 1
                continue
            got = _get(c, tpl.format(pk), headers)
            assert got[0] != 200, (tpl, pk)
            assert got == missing, (tpl, pk, got[0], missing[0])
    bundle_ids = sorted({1, 2, w.bundle.pk, w.bundle.pk + 1})
    missing = _get(c, f"/my/bundles/{MISSING}/")
    for pk in bundle_ids:
        if Bundle.objects.filter(pk=pk, applicant=user).exists():
            continue
        assert _get(c, f"/my/bundles/{pk}/") == missing
    missing = _get(c, f"/registry/person/{MISSING}/")
    for pk in sorted({1, 2, w.person_pk, w.person_pk + 1}):
        if Person.objects.filter(pk=pk).visible_to(user).exists():
            continue
        assert _get(c, f"/registry/person/{pk}/") == missing
    # Certificate numbers are sequential too: the PDF needs the case to be visible. (Only
    # the status is compared: the 404 says 证照不存在 for a number that does not exist and
    # 办件不存在… for one that does, but whether a number exists is public by design on
    # /verify/<number>.)
    number = w.cert_number
    prefix, seq = number[:-5], int(number[-5:])
    for n in range(1, seq + 3):
        guess = f"{prefix}{n:05d}"
        if guess == number and cases.visible(w.cases["approved"], actor):
            continue
        r = c.get(f"/certificates/{guess}.pdf")
        assert r.status_code == 404, guess
        assert not leaked(r, w.secrets, f"/certificates/{guess}.pdf")


# --- Django admin ---------------------------------------------------------------------------


def _admin_paths(s) -> list[str]:
    w = s.world
    return [
        "/admin/",
        "/admin/store/case/",
        f"/admin/store/case/{w.pk('open')}/change/",
        f"/admin/store/case/{w.pk('open')}/history/",
        "/admin/store/certificate/",
        "/admin/store/reveallog/",
        "/admin/store/person/",
        f"/admin/store/person/{w.person_pk}/change/",
        "/admin/auth/user/",
    ]


def test_no_demo_account_is_admin_staff(s):
    from django.contrib.auth import get_user_model

    names = [a.username for a in ACTORS if a.username]
    staff = get_user_model().objects.filter(username__in=names).filter(is_staff=True)
    assert not staff.exists(), list(staff.values_list("username", flat=True))


@pytest.mark.parametrize("actor", ACTORS, ids=ACTOR_IDS)
def test_admin_sends_everyone_to_the_admin_login(s, actor):
    c = s.client(actor.username)
    for path in _admin_paths(s):
        r = c.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/admin/login/"), path
        assert not leaked(r, s.world.secrets, path)


ADMIN_ARG = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")
ADMIN_VALUES = {"app_label": "store", "url": "store/nothing/"}


def test_every_admin_url_requires_admin_staff(s):
    """All admin patterns (models registered later included), anonymous and a clerk."""
    w = s.world
    for pattern in all_patterns():
        if not pattern.startswith(ADMIN_PREFIX) or pattern.startswith("admin/login"):
            continue
        path = "/" + ADMIN_ARG.sub(lambda m: ADMIN_VALUES.get(m[1] or m[2], "1"), pattern)
        path = path.replace("^", "").replace("$", "")
        for who in (None, "clerk_canglang"):
            r = s.client(who).get(path)
            assert r.status_code in (302, 404), (path, r.status_code)
            if r.status_code == 302:  # admin logout sends non-staff to the index (→ login)
                where = r["Location"]
                assert where.startswith("/admin/login/") or where == "/admin/", (path, where)
            assert not leaked(r, w.secrets, path)


def _post(c, path: str, data: dict) -> tuple[int, str]:
    r = c.post(path, data)
    text = r.content.decode("utf-8", "replace").replace(path, "<PATH>")
    return r.status_code, CSRF_VALUE.sub("…", text)


@pytest.mark.parametrize("username", ["dispatcher_gusu", "clerk_canglang", "lisi"])
def test_relocate_answers_outsiders_like_a_missing_request(s, username):
    w = s.world
    c = s.client(username)
    for org in ("320508003", "nonsense", ""):
        missing = _post(c, f"/requests/{MISSING}/relocate/", {"org": org})
        got = _post(c, f"/requests/{w.pk('request')}/relocate/", {"org": org})
        assert got[0] in (403, 404) and got == missing, (org, got[0], missing[0])
