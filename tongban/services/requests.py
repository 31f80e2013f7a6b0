"""诉求: intake from every channel, automatic routing to the department that owns it,
dispatcher corrections that teach the next model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.engine import workflow
from tongban.engine.workflow import SYSTEM_ACTOR
from tongban.services import calendar, catalog
from tongban.services.cases import ActRequest, act, apply, submit
from tongban.services.errors import Invalid, NotFound
from tongban.services.records import state_of
from tongban.store.models import Case, Org, RoutingCorrection, RoutingRule

MATTER = "citizen_request"
CHANNELS = {"web": "网站", "hotline": "热线", "api": "接口", "open311": "Open311"}
log = logging.getLogger("tongban.requests")
_lock = threading.Lock()
_router: tuple[float, Any] | None = None


def model_path() -> Path:
    return Path(settings.VAR_DIR) / "models" / "routing.joblib"


def router():
    """The trained classifier, loaded once per process (reloaded when the file changes);
    None when no model has been trained: then every request waits for a dispatcher."""
    global _router
    path = model_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    with _lock:
        if _router is None or _router[0] != mtime:
            from tongban.routing.model import Router

            try:
                _router = (mtime, Router.load(path))
            except Exception as exc:  # a broken model file must not stop intake
                log.warning("routing model at %s cannot be loaded: %s", path, exc)
                return None
        return _router[1]


def classify(text: str) -> tuple[str | None, float, bool]:
    """(category, confidence, routed automatically?)"""
    model = router()
    if model is None or not text.strip():
        return None, 0.0, False
    prediction = model.predict([text])[0]
    label, confidence = prediction[0], float(prediction[1])
    return label, confidence, bool(model.is_automatic(confidence))


def department_for(category: str, org: Org) -> str | None:
    """The routing table: the rule for this category at the case's org or its nearest
    ancestor, else the rule for anywhere."""
    codes = org.path.split("/")
    rules = {
        (r.org.code if r.org else None): r.department
        for r in RoutingRule.objects.filter(category=category).select_related("org")
    }
    for code in reversed(codes):
        if code in rules:
            return rules[code]
    return rules.get(None)


def intake(
    user,
    raw: Mapping[str, Any],
    *,
    channel: str = "web",
    materials: Mapping[str, list] | None = None,
    idempotency_key: str | None = None,
    org_code: str | None = None,
    on_behalf_of=None,
    now: datetime | None = None,
) -> Case:
    """Register a request and route it: automatically when the classifier is sure enough
    (precision ≥ 99 % on held-back data), otherwise into the dispatcher queue with the
    model's suggestion shown."""
    now = now or timezone.now()
    data = dict(raw)
    text = str(data.get("content") or "")
    if len(text) > 2000:
        raise Invalid("诉求内容最多 2000 字", {"content": f"现在 {len(text)} 字"})
    category, confidence, automatic = classify(text)
    with transaction.atomic():
        case = submit(
            MATTER,
            user,
            data,
            idempotency_key=idempotency_key,
            org_code=org_code,
            on_behalf_of=on_behalf_of,
            materials=materials,
            now=now,
            internal={
                "channel": CHANNELS.get(channel, "网站"),
                "category": category,
                "route_confidence": round(confidence, 4) if category else None,
            },
        )
        if case.state != "registered" or not automatic:
            return case
        department = department_for(category, case.org)
        if department is None:
            log.warning(
                "no routing rule for %s; request %s waits for a dispatcher", category, case.pk
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
                    "category": category,
                    "department": department,
                    "route_confidence": round(confidence, 4),
                }
            ),
            now,
            calendar.current(),
        )
        apply(case, spec, outcome, SYSTEM_ACTOR, now)
    return case


def dispatch(case_id: int, user, category: str, department: str | None = None) -> Case:
    """A dispatcher routes a request by hand; a category different from the model's
    suggestion is recorded as a correction for the next training."""
    with transaction.atomic():
        case = Case.objects.select_related("org").filter(pk=case_id, matter_code=MATTER).first()
        if case is None:
            raise NotFound("诉求不存在")
        department = department or department_for(category, case.org)
        if not department:
            raise Invalid("该类别没有派单规则，请选择承办部门", {"department": "必选"})
        predicted = case.data.get("category")
        result = act(
            case.pk,
            user,
            ActRequest(action="dispatch", data={"category": category, "department": department}),
        )
        if predicted != category:
            RoutingCorrection.objects.create(
                case=result,
                text=str(case.data.get("content", "")),
                predicted=predicted or "",
                confidence=case.data.get("route_confidence"),
                corrected=category,
                by=user,
            )
    return result


def corrections() -> list[tuple[str, str]]:
    """(text, label) pairs from dispatchers, for `tongban routing train`."""
    return list(RoutingCorrection.objects.order_by("pk").values_list("text", "corrected"))
