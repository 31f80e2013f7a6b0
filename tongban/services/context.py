"""Who is acting: a Django user turned into the engine's Actor (roles at org paths).

Actors are cached per process for a short while: every action needs one, and building it
is a join over memberships and orgs. A membership or org change in this process clears
the cache at once (signals); other processes see it within ACTOR_TTL seconds.
"""

from __future__ import annotations

import time

from django.db.models.signals import post_delete, post_save

from tongban.engine.workflow import Actor, Membership
from tongban.services.errors import NotFound
from tongban.store.models import Membership as MembershipRow
from tongban.store.models import Org

ACTOR_TTL = 30.0
_actors: dict[int, tuple[float, Actor]] = {}


def actor_for(user) -> Actor:
    now = time.monotonic()
    hit = _actors.get(user.pk)
    if hit is not None and now - hit[0] < ACTOR_TTL:
        return hit[1]
    rows = MembershipRow.objects.filter(user_id=user.pk).values_list(
        "role", "org__path", "org__level"
    )
    actor = Actor(
        user_id=user.pk,
        name=user.get_full_name() or user.get_username(),
        memberships=frozenset(Membership(r, p, lvl) for r, p, lvl in rows),
    )
    _actors[user.pk] = (now, actor)
    return actor


def forget_actors(*_args, **_kwargs) -> None:
    _actors.clear()


for _model in (MembershipRow, Org):
    post_save.connect(forget_actors, sender=_model, dispatch_uid=f"actors-{_model.__name__}-s")
    post_delete.connect(forget_actors, sender=_model, dispatch_uid=f"actors-{_model.__name__}-d")


def user_by_name(username: str):
    from django.contrib.auth import get_user_model

    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise NotFound(f"用户 '{username}' 不存在") from None
