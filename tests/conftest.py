"""Shared fixtures: a loaded catalog and the demo world (orgs, users, roles) on the test
database — SQLite or PostgreSQL, whichever TONGBAN_DATABASE_URL names."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "catalog"


def ensure_world() -> None:
    from tongban.services import catalog, demo
    from tongban.store.models import Org

    report = catalog.load([CATALOG])
    assert report.ok, report.problems
    if not Org.objects.filter(code="320507").exists():
        demo.build(with_cases=False)  # tests make the cases they count


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_world()


@pytest.fixture
def world(db):
    """The demo world; rebuilt if a transactional test flushed it."""
    ensure_world()


@pytest.fixture
def users(world):
    from django.contrib.auth import get_user_model

    class Users:
        def __getattr__(self, name):
            return get_user_model().objects.get(username=name)

    return Users()
