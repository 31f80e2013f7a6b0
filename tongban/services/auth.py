"""Login throttling and API tokens.

Every password check goes through ThrottledModelBackend (settings.AUTHENTICATION_BACKENDS),
so the site's login, the admin's and any later one share one throttle, over WINDOW:
PER_NAME_AND_ADDRESS failures lock a username from that address; PER_USERNAME failures from
all addresses together lock it everywhere; PER_ADDRESS failures lock an address. A stranger
who types someone's name wrongly five times locks only themselves out; locking the account
everywhere takes more failures than one address may make."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import unicodedata
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from tongban.services.errors import Forbidden
from tongban.store.models import ApiToken, LoginAttempt

WINDOW = timedelta(minutes=15)
PER_NAME_AND_ADDRESS = 5
PER_USERNAME = 50  # from every address together: more than PER_ADDRESS, so ≥ 3 addresses
PER_ADDRESS = 20
LOCKED_MESSAGE = "登录失败次数过多，请 15 分钟后再试"


def throttle_key(username) -> str:
    """The name failures are counted under. Django's login form strips the username and
    NFKC-normalises it before authenticating, so ' zhangsan', 'zhangsan ' and full-width
    'ｚｈａｎｇｓａｎ' all try the same account: they must share one lock, and so must
    'ZhangSan' (casefold). Normalising once more after casefold keeps the key stable."""
    text = unicodedata.normalize("NFKC", str(username or "").strip()).strip()
    return unicodedata.normalize("NFKC", text.casefold())[:150]


def throttled(username, ip: str | None) -> bool:
    since = timezone.now() - WINDOW
    recent = LoginAttempt.objects.filter(at__gte=since)
    failures = recent.filter(username=throttle_key(username))
    if not ip:
        # A caller without an address (no request) cannot be told apart from the others:
        # the strict limit applies to it.
        return failures.count() >= PER_NAME_AND_ADDRESS
    if failures.filter(ip=ip).count() >= PER_NAME_AND_ADDRESS:
        return True
    if failures.count() >= PER_USERNAME:
        return True
    return recent.filter(ip=ip).count() >= PER_ADDRESS


def record_failure(username, ip: str | None) -> None:
    with transaction.atomic():
        LoginAttempt.objects.create(username=throttle_key(username), ip=ip)


def clear_failures(username) -> None:
    with transaction.atomic():
        LoginAttempt.objects.filter(username=throttle_key(username)).delete()


def request_ip(request) -> str | None:
    """The client's address for throttling and logs. REMOTE_ADDR, unless it is one of the
    reverse proxies named in TONGBAN_TRUSTED_PROXIES: then the nearest address in
    X-Forwarded-For that is not one of them (what a trusted proxy saw; anything further left
    is the caller's to invent). Without this, behind nginx every resident would share the
    proxy's address, and one attacker could lock the login for everybody."""
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR")
    trusted = set(getattr(settings, "TRUSTED_PROXIES", ()))
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop in trusted:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a proxy that forwards garbage: fall back to what we know
    return peer


class ThrottledModelBackend(ModelBackend):
    """Django's username/password check behind the throttle: a locked username or address
    stops authentication before the password is looked at (PermissionDenied ends Django's
    authenticate() at once), every failure is recorded and a success clears the username's
    failures. Being a backend, it holds for every login path, the admin's included."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        ip = request_ip(request)
        if throttled(username, ip):
            raise PermissionDenied(LOCKED_MESSAGE)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, ip)
        else:
            clear_failures(username)
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


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
