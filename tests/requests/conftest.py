"""Fixtures of the Open311 contract tests (test_open311_*.py)."""

from __future__ import annotations

import pytest

from tongban.services import auth, requests


@pytest.fixture
def unsure(monkeypatch):
    monkeypatch.setattr(requests.classifier, "classify", lambda text: (None, 0.0, False))


@pytest.fixture
def api_key(users):
    return auth.create_token(users.zhangsan, name="open311 app")
