"""Registry fixtures: staff of two streets, a health officer, files in a temp folder."""

from __future__ import annotations

import pytest

from tongban.services import registry


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    registry.health_roles.cache_clear()
    yield
    registry.health_roles.cache_clear()


@pytest.fixture
def clerk(users):
    """阳澄湖镇 (street 320507103) window clerk."""
    return users.clerk_yangchenghu


@pytest.fixture
def other_clerk(users):
    """沧浪街道 (another district's street) window clerk."""
    return users.clerk_canglang


@pytest.fixture
def health_officer(world):
    from django.contrib.auth import get_user_model

    from tongban.services.demo import DEMO_PASSWORD
    from tongban.store.models import Membership, Org

    user, _ = get_user_model().objects.get_or_create(username="health_yangchenghu")
    user.set_password(DEMO_PASSWORD)
    user.save()
    Membership.objects.get_or_create(
        user=user, org=Org.objects.get(code="320507103"), role="health_officer"
    )
    return user
