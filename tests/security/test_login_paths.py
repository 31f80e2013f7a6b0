"""What test_attacks.py left open: the login throttle on every path (the authentication
backend itself, the Django admin), session fixation through the admin login, script in
the free text of a matter with table rows (mediation parties), and personal data in the
staff worklists of the people who may see the cases."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils.html import escape

from tests.security.world import DISPUTE, IDS, PHONES, body_text
from tongban.services.demo import DEMO_PASSWORD

SESSION = settings.SESSION_COOKIE_NAME
P_SCRIPT = "<script>alert(1)</script>"
P_ATTR = '"><img src=x onerror=alert(1)>'
ADMIN_PASSWORD = "Ops-sec-2026!"


@pytest.fixture
def admin_staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("ops_gate", password=ADMIN_PASSWORD)


def _site(c, username: str, password: str):
    return c.post("/accounts/login/", {"username": username, "password": password})


def _admin(c, username: str, password: str):
    return c.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


def _fail_on_site(s, username: str, ip: str, times: int = 5) -> None:
    for _ in range(times):
        c = s.blank(REMOTE_ADDR=ip)
        r = c.post("/accounts/login/", {"username": username, "password": "wrong"})
        assert r.status_code == 200


# --- the throttle holds on every login path -------------------------------------------------


def test_the_backend_refuses_a_locked_username_whoever_calls_it(s):
    """Any code that checks a password (a future login form, an API) calls authenticate():
    the lock is enforced there, not only by the login page."""
    from django.contrib.auth import authenticate

    request = RequestFactory().post("/", REMOTE_ADDR="10.11.0.1")
    assert authenticate(request, username="lisi", password=DEMO_PASSWORD) is not None
    _fail_on_site(s, "lisi", "10.11.0.1")
    assert authenticate(request, username="lisi", password=DEMO_PASSWORD) is None
    assert authenticate(None, username="ＬＩＳＩ", password=DEMO_PASSWORD) is None


def test_failures_through_authenticate_are_counted(s):
    from django.contrib.auth import authenticate

    request = RequestFactory().post("/", REMOTE_ADDR="10.12.0.1")
    for _ in range(5):
        assert authenticate(request, username=" lisi", password="wrong") is None
    r = s.blank(REMOTE_ADDR="10.12.0.1").post(
        "/accounts/login/", {"username": "lisi", "password": DEMO_PASSWORD}
    )
    assert r.status_code == 429


def test_a_success_clears_the_username_failures(s):
    _fail_on_site(s, "lisi", "10.13.0.1", times=4)
    c = s.blank(REMOTE_ADDR="10.13.0.1")
    assert (
        c.post("/accounts/login/", {"username": "lisi", "password": DEMO_PASSWORD}).status_code
        == 302
    )
    _fail_on_site(s, "lisi", "10.13.0.2", times=4)  # four more: not locked, the count restarted
    c = s.blank(REMOTE_ADDR="10.13.0.3")
    assert (
        c.post("/accounts/login/", {"username": "lisi", "password": DEMO_PASSWORD}).status_code
        == 302
    )


def test_admin_login_says_the_account_is_locked(s, admin_staff):
    _fail_on_site(s, "ops_gate", "10.14.0.1")
    c = s.blank(REMOTE_ADDR="10.14.0.1")
    r = _admin(c, "ops_gate", ADMIN_PASSWORD)
    assert r.status_code == 200 and "15 分钟" in r.content.decode()
    assert "_auth_user_id" not in c.session


@pytest.mark.parametrize("variant", [" ops_gate", "OPS_GATE", "ｏｐｓ＿ｇａｔｅ"])
def test_admin_login_variants_share_the_lock(s, admin_staff, variant):
    c = s.blank(REMOTE_ADDR="10.15.0.1")
    for _ in range(5):
        _admin(c, variant, "wrong")
    r = _site(s.blank(REMOTE_ADDR="10.15.0.1"), "ops_gate", ADMIN_PASSWORD)
    assert r.status_code == 429


def test_admin_login_control_the_right_password_signs_in(s, admin_staff):
    c = s.blank(REMOTE_ADDR="10.16.0.1")
    r = _admin(c, "ops_gate", ADMIN_PASSWORD)
    assert r.status_code == 302 and c.get("/admin/").status_code == 200


def test_admin_login_rotates_a_planted_session(s, admin_staff):
    planted = SessionStore()
    planted["cart"] = "attacker"
    planted.create()
    c = s.blank(REMOTE_ADDR="10.17.0.1")
    c.cookies[SESSION] = planted.session_key
    r = _admin(c, "ops_gate", ADMIN_PASSWORD)
    assert r.status_code == 302
    assert c.cookies[SESSION].value != planted.session_key
    attacker = s.blank()
    attacker.cookies[SESSION] = planted.session_key
    assert attacker.get("/admin/").status_code == 302  # to the admin login


# --- script in a matter with table rows -----------------------------------------------------


def _with_payload(spec, data: dict, payload: str) -> dict:
    """Every free-text field, in the form and in every table row, carries the payload."""
    out = dict(data)
    for f in spec.fields:
        if f.internal:
            continue
        if f.type in ("text", "textarea", "address"):
            out[f.key] = payload[: f.max_length or 200]
        elif f.type == "table" and isinstance(out.get(f.key), list):
            out[f.key] = [
                {
                    **row,
                    **{
                        sub.key: payload[: sub.max_length or 200]
                        for sub in f.fields
                        if sub.type in ("text", "textarea", "address")
                    },
                }
                for row in out[f.key]
            ]
    return out


@pytest.mark.parametrize("payload", [P_SCRIPT, P_ATTR], ids=["script", "attr"])
def test_script_in_mediation_text_and_party_rows_is_escaped(s, payload):
    from django.contrib.auth import get_user_model

    from tongban.services import cases, catalog

    spec = catalog.spec_of(catalog.current_version("dispute_mediation"))
    zhang = get_user_model().objects.get(username="zhangsan")
    case = cases.submit("dispute_mediation", zhang, _with_payload(spec, DISPUTE, payload))
    mine = s.client("zhangsan").get(f"/my/cases/{case.pk}/")
    staff = s.client("mediator_yangchenghu").get(f"/work/cases/{case.pk}/")
    for r in (mine, staff):
        assert r.status_code == 200
        text = r.content.decode()
        assert payload not in text, "unescaped"
    assert escape(payload) in mine.content.decode()  # shown, as text


# --- personal data in the worklists of those who may see the cases ---------------------------


@pytest.mark.parametrize(
    ("who", "secrets"),
    [
        ("clerk_yangchenghu", ["open", "overdue"]),
        ("dispatcher_xiangcheng", ["request", "repeat"]),
        ("mediator_yangchenghu", ["party"]),
        ("birth_registrar_xiangcheng", ["mother"]),
    ],
)
def test_worklists_never_carry_full_phone_or_id_numbers(s, who, secrets):
    full = [IDS.get(k) or PHONES[k] for k in secrets]
    for tab in ("todo", "soon", "overdue", "done"):
        page = s.client(who).get(f"/work/?tab={tab}")
        api = s.client(None).get(f"/api/worklist?tab={tab}", headers=s.bearer(who))
        assert page.status_code == 200 and api.status_code == 200
        for r in (page, api):
            text = body_text(r)
            for value in full:
                assert value not in text, (who, tab, value)


def test_client_address_behind_a_trusted_proxy(rf, settings):
    """Behind nginx the throttle must see the resident, not the proxy; a forged header from
    a direct caller changes nothing."""
    from tongban.services.auth import request_ip

    direct = rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert request_ip(direct) == "203.0.113.9"
    settings.TRUSTED_PROXIES = ("10.0.0.2",)
    proxied = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert request_ip(proxied) == "198.51.100.7"  # the left part is the caller's to invent
    assert request_ip(direct) == "203.0.113.9"
    only_proxy = rf.get("/", REMOTE_ADDR="10.0.0.2")
    assert request_ip(only_proxy) == "10.0.0.2"
    garbage = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>, unknown")
    assert request_ip(garbage) == "10.0.0.2"  # never a non-address into the logs
