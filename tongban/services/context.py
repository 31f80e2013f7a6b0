"""Who is acting: a Django user turned into the engine's Actor (roles at org paths)."""

from __future__ import annotations

from tongban.engine.workflow import Actor, Membership
from tongban.services.errors import NotFound
from tongban.store.models import Membership as MembershipRow


def actor_for(user) -> Actor:
    rows = MembershipRow.objects.filter(user_id=user.pk).values_list(
        "role", "org__path", "org__level"
    )
    return Actor(
        user_id=user.pk,
        name=user.get_full_name() or user.get_username(),
        memberships=frozenset(Membership(r, p, lvl) for r, p, lvl in rows),
    )


def user_by_name(username: str):
    from django.contrib.auth import get_user_model

    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise NotFound(f"用户 '{username}' 不存在") from None
