"""Submit a case and act on it: one transaction each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.engine import workflow
from tongban.engine.errors import Refusal
from tongban.engine.schema import DurationSpec, MatterSpec
from tongban.engine.workflow import ActionInput, Actor, Outcome, within
from tongban.services import calendar, catalog
from tongban.services.context import actor_for
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound, from_refusal
from tongban.services.outputs import issue_certificate
from tongban.services.records import columns_of, event_rows, outbox_rows, state_of
from tongban.store import fastpath
from tongban.store.models import Case, Certificate, Event, Org, Outbox

NOT_FOUND = "办件不存在，或不在您的查看范围内"


def _org(user, org_code: str | None) -> Org:
    if org_code:
        try:
            return Org.objects.get(code=org_code)
        except Org.DoesNotExist:
            raise Invalid(f"组织机构代码 '{org_code}' 不存在", {"org": "请核对代码"}) from None
    profile = getattr(user, "profile", None)
    if profile is not None and profile.home_org_id:
        return profile.home_org
    raise Invalid("请指定办件所属的社区或街道", {"org": "必填"})


def _check_applicant_kind(spec: MatterSpec, applicant) -> None:
    profile = getattr(applicant, "profile", None)
    kind = profile.kind if profile is not None else None
    if spec.applicant == "enterprise" and kind not in (None, "enterprise"):
        raise Invalid(f"「{spec.name}」只能由企业申请，请使用企业账号", code="applicant_kind")
    if spec.applicant == "person" and kind not in (None, "person"):
        raise Invalid(f"「{spec.name}」只能由个人申请", code="applicant_kind")


def _write(case: Case, spec: MatterSpec, outcome: Outcome, actor: Actor, now: datetime) -> None:
    """Persist the outputs of an outcome that belong beside the case row (same transaction)."""
    drafts = list(outcome.events)
    certificates = []
    for effect in outcome.effects:
        if effect.kind == "certificate":
            cert, draft = issue_certificate(case, spec, effect.key, actor.user_id, now)
            certificates.append(cert)
            drafts.append(draft)
    fastpath.insert(Event, event_rows(case, drafts, now))
    if certificates:
        Certificate.objects.bulk_create(certificates)
    fastpath.insert(Outbox, outbox_rows(case, spec, outcome.effects, now))
    for effect in outcome.effects:
        if effect.kind == "spawn":
            _spawn(case, spec, int(effect.key), actor, now)


def _spawn(parent: Case, spec: MatterSpec, index: int, actor: Actor, now: datetime) -> Case:
    rule = spec.outputs.spawn[index]
    data = {target: parent.data.get(src) for target, src in rule.map.items()}
    version = catalog.current_version(rule.matter)
    try:
        return create_case(
            version,
            catalog.spec_of(version),
            actor,
            data,
            parent.org,
            now,
            applicant_id=parent.applicant_id,
            parent=parent,
            trusted=True,  # the catalog's own mapping, not user input
        )
    except Refusal as refusal:
        raise Invalid(f"无法生成关联办件「{rule.matter}」：{refusal}") from None


def create_case(
    version,
    spec,
    actor,
    data,
    org,
    now,
    *,
    applicant_id,
    key=None,
    parent=None,
    materials=None,
    bundle=None,
    trusted=False,
) -> Case:
    outcome = workflow.submit(
        spec,
        actor,
        data,
        org.path,
        now,
        calendar.current(),
        applicant_id=applicant_id,
        materials=materials,
        trusted=trusted,
    )
    s = outcome.state
    case = Case(
        matter=version,
        matter_code=spec.code,
        org=org,
        org_path=org.path,
        **org.jurisdiction(),
        applicant_id=s.applicant_id,
        created_by_id=actor.user_id if actor.user_id else s.applicant_id,
        submitted_at=now,
        last_hash="0" * 64,
        idempotency_key=key,
        parent=parent,
        bundle=bundle,
        **columns_of(spec, s, now),
    )
    case.save(force_insert=True)
    _write(case, spec, outcome, actor, now)
    # The first event's hash covers the case id, known only after the insert.
    fastpath.update_if_version(
        Case, case.pk, case.version, {"last_hash": case.last_hash, "event_count": case.event_count}
    )
    return case


def submit(
    matter_code: str,
    user,
    data: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
    org_code: str | None = None,
    on_behalf_of=None,
    materials: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    internal: Mapping[str, Any] | None = None,
) -> Case:
    """File an application. A retried call with the same idempotency key returns the
    case the first call created, whatever happened to the first response."""
    if idempotency_key is not None:
        idempotency_key = str(idempotency_key).strip()[:100] or None
        existing = _existing(user, idempotency_key, matter_code)
        if existing is not None:
            return existing
    version = catalog.current_version(matter_code)
    spec = catalog.spec_of(version)
    applicant = on_behalf_of or user
    if internal is not None:
        # Values the system sets (a request's channel, the model's category): whatever the
        # user sent under those internal keys is dropped first.
        hidden = {f.key for f in spec.fields if f.internal}
        data = {k: v for k, v in data.items() if k not in hidden}
        data.update({k: v for k, v in internal.items() if k in hidden and v is not None})
    now = now or timezone.now()
    try:
        with transaction.atomic():
            org = _org(applicant, org_code)
            actor = actor_for(user)
            if on_behalf_of is not None:
                _check_may_file_for(spec, actor, org)
            if spec.filers and not actor.holds(spec.filers, org.path, None):
                raise Forbidden(f"「{spec.name}」只能由相关工作人员填报")
            _check_applicant_kind(spec, applicant)
            return create_case(
                version,
                spec,
                actor,
                data,
                org,
                now,
                applicant_id=applicant.pk,
                key=idempotency_key,
                materials=materials,
                trusted=internal is not None,
            )
    except Refusal as refusal:
        raise from_refusal(refusal) from None
    except IntegrityError:
        # Two submits with one key raced: the other one won; return its case.
        existing = _existing(user, idempotency_key, matter_code) if idempotency_key else None
        if existing is None:
            raise
        return existing


def _existing(user, key: str | None, matter_code: str) -> Case | None:
    if not key:
        return None
    case = Case.objects.filter(created_by=user, idempotency_key=key).first()
    if case is not None and case.matter_code != matter_code:
        raise Conflict("这个幂等键已用于另一个事项的申请", {"idempotency_key": "请换一个"})
    return case


def _check_may_file_for(spec: MatterSpec, actor: Actor, org: Org) -> None:
    if not spec.staff_may_file:
        raise Forbidden(f"「{spec.name}」不允许代办，请申请人本人提交")
    if not actor.holds(("clerk",), org.path, None):
        raise Forbidden("只有该辖区的窗口受理员可以代办")


@dataclass
class ActRequest:
    action: str
    comment: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    target: str | None = None
    assignee_id: int | None = None
    extension: Mapping[str, Any] | None = None
    expected_version: int | None = None
    materials: Mapping[str, Any] | None = None


OVERSIGHT_ROLES = frozenset({"supervisor", "head"})


def visible(case: Case, actor: Actor) -> bool:
    """The applicant and whoever filed it; staff in the case's jurisdiction whose role
    takes part in its matter (least privilege: a unit sees its own items, not every case
    in its area), and supervisors and heads of the area."""
    if actor.user_id in (case.applicant_id, case.created_by_id):
        return True
    relevant = catalog.roles_for(case) | OVERSIGHT_ROLES
    return any(m.role in relevant and within(case.org_path, m.org_path) for m in actor.memberships)


def get_case(case_id: int, user) -> Case:
    """A case the user may see, or NotFound (never a hint that it exists)."""
    try:
        case = Case.objects.select_related("matter").get(pk=int(case_id))
    except (Case.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(NOT_FOUND) from None
    if not visible(case, actor_for(user)):
        raise NotFound(NOT_FOUND)
    return case


def _input(req: ActRequest) -> ActionInput:
    assignee = None
    if req.assignee_id is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=req.assignee_id).first()
        if user is None:
            raise Invalid("接收人不存在", {"assignee": "请选择经办人"})
        assignee = actor_for(user)
    extension = None
    if req.extension:
        try:
            extension = DurationSpec.model_validate(req.extension)
        except ValueError:
            raise Invalid("延期时长格式不对", {"extension": '例如 {"working_days": 2}'}) from None
    return ActionInput(req.comment, req.data or {}, req.target, assignee, extension, req.materials)


def act(case_id: int, user, req: ActRequest, *, now: datetime | None = None) -> Case:
    """Take an action on a case: one transaction, guarded by the case's version."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            case = fastpath.load(Case, int(case_id))
        except (ValueError, TypeError, OverflowError):
            case = None
        if case is None:
            raise NotFound(NOT_FOUND)
        actor = actor_for(user)
        if not visible(case, actor):
            raise NotFound(NOT_FOUND)
        if req.expected_version is not None and req.expected_version != case.version:
            raise Conflict("办件已被他人更新，请刷新后重试", code="stale")
        spec = catalog.spec_for(case)
        try:
            outcome = workflow.act(
                spec, state_of(case), actor, req.action, _input(req), now, calendar.current()
            )
        except Refusal as refusal:
            raise from_refusal(refusal) from None
        apply(case, spec, outcome, actor, now)
    return case


def apply(case: Case, spec: MatterSpec, outcome: Outcome, actor: Actor, now: datetime) -> None:
    """Write an outcome over a loaded case; a concurrent change makes this raise Conflict."""
    old_version = case.version
    new = columns_of(spec, outcome.state, now, case)
    before = {name: getattr(case, name) for name in new}
    for name, value in new.items():
        setattr(case, name, value)
    case.version = old_version + 1
    try:
        # A concurrent action that committed first already used this event's seq: the
        # unique (case, seq) index turns that race into a conflict, never a lost update.
        _write(case, spec, outcome, actor, now)
    except IntegrityError:
        raise Conflict("办件已被他人更新，请刷新后重试", code="stale") from None
    values = {k: v for k, v in new.items() if before[k] != v}  # rewrite only what changed
    values.update(
        version=case.version,
        last_hash=case.last_hash,
        event_count=case.event_count,
        updated_at=now,
    )
    if not fastpath.update_if_version(Case, case.pk, old_version, values):
        raise Conflict("办件已被他人更新，请刷新后重试", code="stale")
    if case.bundle_id:
        from tongban.services import bundles

        bundles.sync(case, now)


def allowed_actions(case: Case, user) -> list[str]:
    spec = catalog.spec_of(case.matter)
    return workflow.allowed_actions(spec, state_of(case), actor_for(user))
