"""Login throttling and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tongban.services.errors import Forbidden
from tongban.store.models import ApiToken, LoginAttempt

WINDOW = timedelta(minutes=15)
PER_USERNAME = 5
PER_ADDRESS = 20


def throttled(username: str, ip: str | None) -> bool:
    since = timezone.now() - WINDOW
    recent = LoginAttempt.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()[:150]).count() >= PER_USERNAME:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= PER_ADDRESS


def record_failure(username: str, ip: str | None) -> None:
    with transaction.atomic():
        LoginAttempt.objects.create(username=username.lower()[:150], ip=ip)


def clear_failures(username: str) -> None:
    with transaction.atomic():
        LoginAttempt.objects.filter(username=username.lower()[:150]).delete()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, name: str = "") -> str:
    """Create an API token; the plain token is returned once and never stored."""
    token = "tb_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(user=user, name=name, prefix=token[:8], digest=_digest(token))
    return token


def user_for_token(token: str):
    if not token or len(token) > 200:
        return None
    row = (
        ApiToken.objects.select_related("user").filter(digest=_digest(token), revoked=False).first()
    )
    if row is None or not row.user.is_active:
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user


def revoke_token(prefix: str, user) -> None:
    with transaction.atomic():
        if not ApiToken.objects.filter(user=user, prefix=prefix).update(revoked=True):
            raise Forbidden("没有这个令牌")
