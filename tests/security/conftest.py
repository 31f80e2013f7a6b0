"""The attackers (every demo role from elsewhere, residents, anonymous) and one shared set
of objects per test module, built once inside a transaction that is rolled back when the
module ends; each test runs in a savepoint inside it (pytest-django's `db`)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings

from tongban.services import demo


@dataclass(frozen=True)
class Actor:
    key: str  # the test id
    username: str | None  # None: anonymous
    where: str  # 姑苏区 / 同区他镇 / 居民 / 匿名


def _actors() -> list[Actor]:
    """One account per (role, level) from the other district (姑苏区, 沧浪街道) and from
    another street of the same district (渭塘镇), residents who are not the applicant,
    and an anonymous visitor. District-level roles of 相城区 may see 阳澄湖镇 by design."""
    (_, _, gusu), streets_gusu = next((k, v) for k, v in demo.TREE.items() if k[0] == "320508")
    out = [Actor(f"{r}_{gusu}", f"{r}_{gusu}", "姑苏区") for r in demo.DISTRICT_ROLES]
    for spin, where in (("canglang", "姑苏区"), ("weitang", "同区他镇")):
        out += [Actor(f"{r}_{spin}", f"{r}_{spin}", where) for r in demo.STREET_ROLES]
        out += [
            Actor(f"clerk_{spin}1", f"clerk_{spin}1", where),  # community window
            Actor(f"grid_{spin}1", f"grid_{spin}1", where),  # grid worker
        ]
    out += [
        Actor("lisi", "lisi", "居民"),
        Actor("ent_demo", "ent_demo", "居民"),  # same community as the applicant
        Actor("anonymous", None, "匿名"),
    ]
    return out


ACTORS = _actors()
ACTOR_IDS = [a.key for a in ACTORS]
# Users who may see the objects (the control group of several attacks).
RIGHTFUL = [
    "zhangsan",
    "clerk_yangchenghu",
    "reviewer_yangchenghu",
    "mediator_yangchenghu",
    "grid_yangchenghu1",
    "head_yangchenghu",
    "dispatcher_xiangcheng",
    "dept_construction_xiangcheng",
    "birth_registrar_xiangcheng",
    "supervisor_xiangcheng",
]


class Sec:
    """What a test needs: the objects, a logged-in client and an API token per user."""

    def __init__(self, world):
        self.world = world
        self.sessions: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        # A client's handler loads the middleware on its first request, and WhiteNoise
        # then indexes every static file: share two handlers instead of paying per test.
        self._handlers = {flag: Client(enforce_csrf_checks=flag).handler for flag in (False, True)}

    def login(self, username: str) -> tuple[str, str]:
        """(session key, API token) for the user; kept when called while setting up (a
        session made inside a test is rolled back with it)."""
        from django.contrib.auth import get_user_model

        from tongban.services.auth import create_token

        user = get_user_model().objects.get(username=username)
        c = Client()
        c.force_login(user)
        return c.cookies[settings.SESSION_COOKIE_NAME].value, create_token(user, name="security")

    def remember(self, username: str) -> None:
        self.sessions[username], self.tokens[username] = self.login(username)

    def blank(self, **kw) -> Client:
        """A new client without a session (kw: enforce_csrf_checks, REMOTE_ADDR…)."""
        c = Client(**kw)
        c.handler = self._handlers[bool(kw.get("enforce_csrf_checks"))]
        return c

    def client(self, username: str | None, **kw) -> Client:
        """A fresh client (no leftover messages) carrying the user's session."""
        c = self.blank(**kw)
        if username is not None:
            key = self.sessions.get(username) or self.login(username)[0]
            c.cookies[settings.SESSION_COOKIE_NAME] = key
        return c

    def bearer(self, username: str | None) -> dict:
        if username is None:
            return {}
        token = self.tokens.get(username) or self.login(username)[1]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def sec(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.conftest import ensure_world
    from tests.security import world
    from tongban.store.models import MatterVersion, Org

    media = tmp_path_factory.mktemp("security-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        if not (Org.objects.filter(code="320507").exists() and MatterVersion.objects.exists()):
            ensure_world()  # a transactional test elsewhere flushed the database
        s = Sec(world.build(tmp_path_factory.mktemp("security-src")))
        s.media = media
        for name in [a.username for a in ACTORS if a.username] + RIGHTFUL:
            s.remember(name)
        yield s
        transaction.set_rollback(True)


@pytest.fixture
def s(sec, db):
    """The shared objects, in a per-test savepoint."""
    return sec
