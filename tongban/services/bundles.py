"""Bundles (一件事): one form, one submission; each department handles only its item.

A submission creates every sub-case it can in one transaction (all or none); items that
wait for another item's output start, in the transaction that produced that output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.engine import bundles as rules
from tongban.engine.errors import Refusal
from tongban.engine.schema_bundle import BundleSpec
from tongban.engine.workflow import SYSTEM_ACTOR, duration
from tongban.services import calendar, catalog
from tongban.services.context import actor_for
from tongban.services.errors import Conflict, Invalid, NotFound
from tongban.store.models import Bundle, BundleItem, Case, Outbox

FINAL = {BundleItem.COMPLETED, BundleItem.REFUSED, BundleItem.WITHDRAWN, BundleItem.SKIPPED}


def spec_and_form(code: str) -> tuple[BundleSpec, rules.MergedForm, dict]:
    version = catalog.current_version(code, kind="bundle")
    spec = catalog.spec_of(version)
    matters = catalog.current_specs()
    return spec, rules.merge(spec, matters), matters


def _prefix_errors(spec: BundleSpec, item_key: str, matter, errors: Mapping[str, str]) -> dict:
    item = next(i for i in spec.items if i.key == item_key)
    return {rules.bundle_key(item, k): f"「{matter.name}」：{v}" for k, v in errors.items()}


def submit(
    code: str,
    user,
    raw: Mapping[str, Any],
    *,
    materials: Mapping[str, list] | None = None,
    idempotency_key: str | None = None,
    org_code: str | None = None,
    now: datetime | None = None,
) -> Bundle:
    from tongban.services.cases import _org, create_case

    now = now or timezone.now()
    if idempotency_key:
        existing = Bundle.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.code != code:
                raise Conflict("这个幂等键已用于另一个申请", {"idempotency_key": "请换一个"})
            return existing
    version = catalog.current_version(code, kind="bundle")
    spec = catalog.spec_of(version)
    matters = catalog.current_specs()
    plan = rules.split(spec, matters, raw, materials or {})
    if plan.errors:
        raise Invalid("申请内容有误，请按提示修改", plan.errors)
    actor = actor_for(user)
    try:
        with transaction.atomic():
            org = _org(user, org_code)
            bundle = Bundle.objects.create(
                version=version,
                code=spec.code,
                applicant=user,
                created_by=user,
                org=org,
                answers=_jsonable(plan.answers),
                submitted_at=now,
                due_at=calendar.current().add(now, duration(spec.time_limit)),
                idempotency_key=idempotency_key or None,
            )
            for key in plan.skipped:
                item = next(i for i in spec.items if i.key == key)
                BundleItem.objects.create(
                    bundle=bundle, key=key, matter_code=item.matter, status=BundleItem.SKIPPED
                )
            for p in plan.plans:
                row = BundleItem.objects.create(
                    bundle=bundle,
                    key=p.item,
                    row=p.row,
                    matter_code=p.matter,
                    status=BundleItem.WAITING if p.waiting else BundleItem.ACTIVE,
                    data=p.data if p.waiting else {},
                    materials=p.materials if p.waiting else {},
                )
                if not p.waiting:
                    try:
                        _start(row, bundle, actor, p.data, p.materials, now, create_case)
                    except Refusal as refusal:
                        errors = _prefix_errors(spec, p.item, matters[p.matter], refusal.fields)
                        raise Invalid(refusal.message, errors) from None
    except IntegrityError:
        if idempotency_key:
            existing = Bundle.objects.filter(
                created_by=user, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return existing
        raise
    return bundle


def _start(row: BundleItem, bundle: Bundle, actor, data, materials, now, create_case) -> Case:
    version = catalog.current_version(row.matter_code)
    case = create_case(
        version,
        catalog.spec_of(version),
        actor,
        data,
        bundle.org,
        now,
        applicant_id=bundle.applicant_id,
        materials=materials,
        bundle=bundle,
    )
    row.case = case
    row.status = BundleItem.ACTIVE
    row.data, row.materials = {}, {}
    row.save(update_fields=["case", "status", "data", "materials"])
    return case


_OUTCOME_STATUS = {
    "completed": BundleItem.COMPLETED,
    "refused": BundleItem.REFUSED,
    "withdrawn": BundleItem.WITHDRAWN,
    "closed": BundleItem.COMPLETED,
}


def _item_status(case: Case) -> str:
    """An item is done for its bundle when its case completes, or as soon as the case has
    issued its certificate: what the applicant came for exists, and whatever follows
    (a filing's daily reports, a delivery) goes on in the case itself."""
    status = _OUTCOME_STATUS.get(case.outcome, BundleItem.ACTIVE)
    if status == BundleItem.ACTIVE and case.certificates.exists():
        return BundleItem.COMPLETED
    return status


def sync(case: Case, now: datetime) -> None:
    """Called in the transaction that changed a bundle's sub-case: update its item, start
    items whose needs are now met, and close the bundle when every item is final."""
    row = BundleItem.objects.select_related("bundle").filter(case_id=case.pk).first()
    if row is None:
        return
    status = _item_status(case)
    if status != row.status:
        row.status = status
        row.save(update_fields=["status"])
    if status in FINAL:
        _release(row.bundle, now)
        _close_if_done(row.bundle, now)


def _outputs(bundle: Bundle) -> dict[str, dict]:
    out = {}
    for item in bundle.items.select_related("case").filter(status=BundleItem.COMPLETED):
        cert = item.case.certificates.order_by("pk").first() if item.case else None
        out[item.key] = {
            **(item.case.data if item.case else {}),
            "certificate": cert and cert.number,
        }
    return out


def _release(bundle: Bundle, now: datetime) -> None:
    from tongban.services.cases import create_case

    spec: BundleSpec = catalog.spec_of(bundle.version)
    items = list(bundle.items.all())
    status = {}
    for i in items:
        status.setdefault(i.key, set()).add(i.status)
    for row in items:
        if row.status != BundleItem.WAITING:
            continue
        item = next(i for i in spec.items if i.key == row.key)
        needed = [status.get(n, {BundleItem.SKIPPED}) for n in item.needs]
        if any(s & {BundleItem.REFUSED, BundleItem.WITHDRAWN} for s in needed):
            row.status = BundleItem.REFUSED
            names = "、".join(_item_name(spec, n) for n in item.needs)
            row.reason = f"前置事项（{names}）未办结，本事项无法办理"
            row.save(update_fields=["status", "reason"])
            continue
        if not all(
            s == {BundleItem.COMPLETED} or s <= {BundleItem.COMPLETED, BundleItem.SKIPPED}
            for s in needed
        ):
            continue
        data = {**row.data, **rules.received(item, _outputs(bundle))}
        try:
            _start(row, bundle, SYSTEM_ACTOR, data, row.materials, now, create_case)
        except Refusal as refusal:
            row.status = BundleItem.REFUSED
            row.reason = f"无法自动发起：{refusal}"
            row.save(update_fields=["status", "reason"])


def _item_name(spec: BundleSpec, key: str) -> str:
    item = next((i for i in spec.items if i.key == key), None)
    matter = catalog.current_specs().get(item.matter) if item else None
    return matter.name if matter else key


def _close_if_done(bundle: Bundle, now: datetime) -> None:
    statuses = set(bundle.items.values_list("status", flat=True))
    if not statuses <= FINAL or bundle.outcome:
        return
    if statuses - {BundleItem.SKIPPED} <= {BundleItem.COMPLETED}:
        outcome = "completed"
    elif BundleItem.COMPLETED in statuses:
        outcome = "partial"
    else:
        outcome = "refused"
    Bundle.objects.filter(pk=bundle.pk).update(outcome=outcome, closed_at=now)
    Outbox.objects.create(
        topic="bundle_closed",
        recipient=f"user:{bundle.applicant_id}",
        payload={"bundle": bundle.pk, "code": bundle.code, "outcome": outcome},
        created_at=now,
    )


def sweep_overdue(now: datetime | None = None) -> int:
    """Bundles past their own time limit: flag them and tell the supervisors, once."""
    now = now or timezone.now()
    marked = 0
    for bundle in Bundle.objects.filter(outcome="", overdue=False, due_at__lt=now).select_related(
        "org"
    ):
        with transaction.atomic():
            if not Bundle.objects.filter(pk=bundle.pk, overdue=False).update(overdue=True):
                continue
            Outbox.objects.create(
                topic="bundle_overdue",
                recipient=f"role:supervisor@{bundle.org.path}",
                payload={
                    "bundle": bundle.pk,
                    "code": bundle.code,
                    "due_at": bundle.due_at.isoformat(),
                },
                created_at=now,
            )
            marked += 1
    return marked


def get_bundle(bundle_id: int, user) -> Bundle:
    bundle = Bundle.objects.select_related("version").filter(pk=bundle_id).first()
    if bundle is None or user.pk not in (bundle.applicant_id, bundle.created_by_id):
        raise NotFound("办件不存在，或不是您的办件")
    return bundle


def status(bundle: Bundle) -> list[dict]:
    """One row per item (per table row for a `for_each` item), for the bundle's status
    page; `grouped` folds a per-row item's rows under one heading."""
    from tongban.services.timeline import state_label

    spec: BundleSpec = catalog.spec_of(bundle.version)
    matters = catalog.current_specs()
    rows = []
    for row in bundle.items.select_related("case", "case__matter").order_by("pk"):
        item = next((i for i in spec.items if i.key == row.key), None)
        matter = matters.get(row.matter_code)
        case = row.case
        needs_me = bool(case and case.pending_role == "applicant")
        refused = row.status in (BundleItem.REFUSED, BundleItem.WITHDRAWN)
        comment = _last_comment(case) if case is not None and (needs_me or refused) else ""
        label = BundleItem.STATUS_LABELS.get(row.status, row.status)
        if row.status == BundleItem.COMPLETED and case is not None and not case.outcome:
            label = f"已出证 · {state_label(case)}"  # e.g. the filing's daily reports go on
        rows.append(
            {
                "item": row,
                "name": matter.name if matter else row.matter_code,
                "status": label,
                "state": state_label(case) if case else "",
                "case": case,
                "needs_me": needs_me,
                "comment": comment if needs_me else "",
                "reason": row.reason or (comment if refused else ""),
                "waits_for": list(item.needs) if item and row.status == BundleItem.WAITING else [],
                "per_row": bool(item and item.for_each),
                "row_label": rules.row_label(spec, item, bundle.answers, row.row) if item else "",
            }
        )
    return rows


def _last_comment(case: Case) -> str:
    last = case.events.exclude(body__contains='"comment":""').order_by("-seq").first()
    return (last and json.loads(last.body).get("comment", "")) or ""


def grouped(rows: list[dict]) -> list[dict]:
    """The status page's entries: an item as it is, a per-row item (a pass per employee) as
    one group with its rows and counts by status, so fifty passes do not drown the rest."""
    entries: list[dict] = []
    groups: dict[str, dict] = {}
    for r in rows:
        if not r["per_row"]:
            entries.append({"group": False, "row": r})
            continue
        key = r["item"].key
        if key not in groups:
            groups[key] = {"group": True, "name": r["name"], "rows": [], "counts": {}}
            entries.append(groups[key])
        g = groups[key]
        g["rows"].append(r)
        label = BundleItem.STATUS_LABELS.get(r["item"].status, r["item"].status)
        g["counts"][label] = g["counts"].get(label, 0) + 1
    for g in groups.values():
        g["summary"] = f"共 {len(g['rows'])} 件：" + "，".join(
            f"{k} {v}" for k, v in g["counts"].items()
        )
        g["needs_me"] = sum(r["needs_me"] for r in g["rows"])
        g["open"] = bool(g["needs_me"]) or any(r["reason"] for r in g["rows"])
    return entries


def _jsonable(values: Mapping[str, Any]) -> dict:
    return json.loads(json.dumps(values, ensure_ascii=False, default=str))
