"""Attacks beside the access matrix: login brute force and session fixation."""

from __future__ import annotations

import unicodedata

import pytest
from django.contrib.sessions.backends.db import SessionStore

from tests.security.attacks import SESSION
from tongban.services.demo import DEMO_PASSWORD

# --- login brute force ----------------------------------------------------------------------


def _login(s, username, password, ip="10.1.0.1", **headers) -> int:
    c = s.blank(REMOTE_ADDR=ip)
    r = c.post("/accounts/login/", {"username": username, "password": password}, headers=headers)
    return r.status_code


def test_five_failures_lock_the_username_from_that_address(s):
    for _ in range(5):
        assert _login(s, "zhangsan", "wrong", "10.1.0.1") == 200
    assert _login(s, "zhangsan", DEMO_PASSWORD, "10.1.0.1") == 429
    assert _login(s, "ZhangSan", "wrong", "10.1.0.1") == 429  # the lock ignores case
    assert _login(s, "lisi", DEMO_PASSWORD, "10.1.0.1") == 302  # others are not locked out
    # A stranger's failures do not lock the resident out of their own device.
    assert _login(s, "zhangsan", DEMO_PASSWORD, "10.9.9.9") == 302


def test_fifty_failures_from_many_addresses_lock_the_username_everywhere(s):
    """Guessing one password from many addresses: past PER_USERNAME failures in all the
    name is locked from everywhere, an address never seen before included. One address
    cannot get there alone (it is locked at PER_ADDRESS)."""
    from tongban.services.auth import PER_ADDRESS, PER_NAME_AND_ADDRESS, PER_USERNAME

    assert PER_USERNAME > PER_ADDRESS
    for i in range(PER_USERNAME // PER_NAME_AND_ADDRESS):
        for _ in range(PER_NAME_AND_ADDRESS):
            assert _login(s, "zhangsan", "wrong", f"10.7.{i}.1") == 200
    assert _login(s, "zhangsan", DEMO_PASSWORD, "10.7.200.1") == 429
    assert _login(s, "lisi", DEMO_PASSWORD, "10.7.200.1") == 302


def test_locked_page_says_when_to_retry(s):
    for _ in range(5):
        _login(s, "lisi", "wrong")
    c = s.blank(REMOTE_ADDR="10.1.0.1")
    r = c.post("/accounts/login/", {"username": "lisi", "password": DEMO_PASSWORD})
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
    assert _login(s, variant, DEMO_PASSWORD, "10.4.0.4") == 429


@pytest.fixture
def admin_staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("ops_sec", password="Ops-sec-2026!")


def test_admin_login_is_throttled_too(s, admin_staff):
    for _ in range(5):
        _login(s, "ops_sec", "wrong", "10.5.0.5")
    assert _login(s, "ops_sec", "Ops-sec-2026!", "10.5.0.5") == 429
    c = s.blank(REMOTE_ADDR="10.5.0.5")
    c.post("/admin/login/", {"username": "ops_sec", "password": "Ops-sec-2026!", "next": "/admin/"})
    assert "_auth_user_id" not in c.session, "a locked account signed in through the admin"


def test_admin_login_failures_count(s, admin_staff):
    c = s.blank(REMOTE_ADDR="10.6.0.6")
    for _ in range(5):
        c.post("/admin/login/", {"username": "ops_sec", "password": "wrong", "next": "/admin/"})
    assert _login(s, "ops_sec", "Ops-sec-2026!", "10.6.0.6") == 429


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
