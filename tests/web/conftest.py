"""Fixtures of the JSON API tests (test_api_*.py)."""

from __future__ import annotations

import pytest

from tests.web.api_helpers import Api


@pytest.fixture
def as_user(client, users):
    return lambda name: Api(client, getattr(users, name))


@pytest.fixture
def materials(users):
    from tongban.services.demo import demo_materials

    return demo_materials(users.zhangsan)
