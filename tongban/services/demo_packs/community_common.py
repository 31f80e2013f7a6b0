"""Helpers shared by the community-service demo scenarios (see community_services).

Not a pack: no `build()`, so `build_all` imports it and skips it."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from tongban.services import cases
from tongban.store.models import Case

log = logging.getLogger("tongban.demo")

XIANGCHENG = "320507103001"  # 湘城社区, 阳澄湖镇, 相城区


def _u(username: str):
    return get_user_model().objects.get(username=username)


def _day(t: datetime) -> str:
    return timezone.localtime(t).date().isoformat()


def _act(case: Case, user, action: str, now: datetime, **kw) -> Case:
    return cases.act(case.pk, user, cases.ActRequest(action=action, **kw), now=now)
