"""Registering a request from any channel (resident form, hotline, JSON API, Open311), its
automatic routing, and the query code (查询码) a resident follows it with."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.engine import workflow
from tongban.engine.workflow import SYSTEM_ACTOR
from tongban.services import calendar, catalog
from tongban.services.cases import apply, submit
from tongban.services.errors import Invalid
from tongban.services.records import state_of
from tongban.services.requests import classifier, places
from tongban.services.requests.rules import department_for
from tongban.services.requests.spec import CHANNELS, MATTER, MAX_TEXT, category_options
from tongban.store.models import Case, Org, RequestToken

log = logging.getLogger("tongban.requests")
ANONYMOUS_TRUE = (True, "true", "on", "1", 1)


def intake(
    user,
    raw: Mapping[str, Any],
    *,
    channel: str = "web",
    materials: Mapping[str, list] | None = None,
    idempotency_key: str | None = None,
    org_code: str | None = None,
    on_behalf_of=None,
    category: str | None = None,
    media_url: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Register a request and route it: automatically when the classifier is sure enough
    (precision ≥ 99 % on held-back data), or to the category the filer chose (an Open311
    service code); otherwise into the dispatcher queue with the model's suggestion shown.

    The position must lie inside the deployment's area; the request is placed at the
    deepest org its position and address point to. In the same transaction it gets its
    query code (查询码) and, when it repeats an open request nearby, a link to that one.
    Anonymous requests keep no contact details (and get no callback)."""
    from tongban.services import duplicates

    now = now or timezone.now()
    data = dict(raw)
    text = str(data.get("content") or "")
    if not text.strip():
        raise Invalid("请填写诉求内容", {"content": "必填"})
    if len(text) > MAX_TEXT:
        raise Invalid(f"诉求内容最多 {MAX_TEXT} 字", {"content": f"现在 {len(text)} 字"})
    point = places.parse_point(data.get("position"))
    if data.get("anonymous") in ANONYMOUS_TRUE:
        data.pop("contact_name", None)
        data.pop("contact_phone", None)
    if category is not None and category not in category_options():
        raise Invalid(f"没有诉求类别「{category[:20]}」", {"category": "请从列表中选择"})
    fallback = None
    if org_code:
        fallback = Org.objects.filter(code=org_code).first()
        if fallback is None:
            raise Invalid(f"组织机构代码 '{org_code[:20]}' 不存在", {"org": "请核对代码"})
    else:
        fallback = places.home_org(on_behalf_of or user)
    org = places.locate(point, str(data.get("address") or ""), fallback)
    if org is None:
        raise Invalid("请指定诉求所在的街道或社区，或提供事发位置", {"org": "必填"})
    if point is not None:
        data["position"] = {"lat": point[0], "lng": point[1]}
    if category is not None:
        predicted, confidence, automatic = category, None, True
    else:
        # Looked up on the module so that tests can make the classifier abstain.
        predicted, confidence, automatic = classifier.classify(text)
    with transaction.atomic():
        case = submit(
            MATTER,
            user,
            data,
            idempotency_key=idempotency_key,
            org_code=org.code,
            on_behalf_of=on_behalf_of,
            materials=materials,
            now=now,
            internal={
                "channel": CHANNELS.get(channel, "网站"),
                "category": predicted,
                "route_confidence": round(confidence, 4) if predicted and confidence else None,
                "located": org.level != "district",
                "media_url": media_url,
            },
        )
        if case.submitted_at != now:
            return case  # a retry with the same idempotency key: the first call's request
        RequestToken.objects.create(case=case, token=_new_token())
        duplicates.link(case, now)
        if case.state != "registered" or not automatic or not predicted:
            return case
        department = department_for(predicted, case.org)
        if department is None:
            log.warning(
                "no routing rule for %s; request %s waits for a dispatcher", predicted, case.pk
            )
            return case
        spec = catalog.spec_of(case.matter)
        outcome = workflow.act(
            spec,
            state_of(case),
            SYSTEM_ACTOR,
            "route",
            workflow.ActionInput(
                data={
                    "category": predicted,
                    "department": department,
                    "route_confidence": round(confidence, 4) if confidence else None,
                }
            ),
            now,
            calendar.current(),
        )
        apply(case, spec, outcome, SYSTEM_ACTOR, now)
    return case


# -- 查询码 ------------------------------------------------------------------------------

TOKEN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
TOKEN_LENGTH = 8


def _new_token() -> str:
    while True:
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        if not RequestToken.objects.filter(token=token).exists():
            return token


def token_of(case: Case) -> str:
    row = RequestToken.objects.filter(case=case).first()
    return row.token if row else ""


def case_for_token(token: str) -> Case | None:
    token = (token or "").strip().upper()
    if not token or len(token) > 16:
        return None
    row = RequestToken.objects.select_related("case").filter(token=token).first()
    return row.case if row else None
