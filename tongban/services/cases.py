"""Submit a case and act on it: one transaction each."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tongban.engine import workflow
from tongban.engine.chain import GENESIS
from tongban.engine.errors import Refusal
from tongban.engine.schema import DurationSpec, MatterSpec
from tongban.engine.workflow import ActionInput, Actor, Outcome, within
from tongban.services import calendar, catalog
from tongban.services.context import actor_for
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound, from_refusal
from tongban.services.outputs import issue_certificate
from tongban.services.records import chain, columns_of, outbox, state_of
from tongban.store import fastpath
from tongban.store.models import Case, Certificate, Org

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


CASE_COLUMNS = tuple(f.attname for f in Case._meta.concrete_fields if not f.primary_key)
CERTIFICATE_COLUMNS = tuple(
    f.attname for f in Certificate._meta.concrete_fields if not f.primary_key
)
_MORE_STATEMENTS = frozenset({"certificate", "spawn"})


def _own_transaction(case: Case, outcome: Outcome) -> bool:
    """Does writing this outcome take more than one statement, so that it needs a
    transaction block of its own (unless the caller already holds one)?

    On PostgreSQL a plain step — the case row, its events and outbox messages — is ONE
    statement (store.fastpath), atomic and durable on its own: a BEGIN/COMMIT around it
    would only add two round trips. A certificate (its number is drawn, then signed, before
    the row is written), a spawned case or a bundle update take more statements."""
    if not fastpath.one_statement_writes():
        return True
    return bool(case.bundle_id) or any(e.kind in _MORE_STATEMENTS for e in outcome.effects)


def _transaction(needed: bool):
    if needed and not connection.in_atomic_block:
        return transaction.atomic()
    return nullcontext()  # no block needed, or the caller's block (no savepoint)


def _rows(
    case: Case, spec: MatterSpec, outcome: Outcome, actor: Actor, now: datetime
) -> list[fastpath.Rows]:
    """The rows that go beside the case row: events (certificates first numbered and
    signed), certificates, outbox messages."""
    drafts = list(outcome.events)
    certificates = []
    for effect in outcome.effects:
        if effect.kind == "certificate":
            cert, draft = issue_certificate(case, spec, effect.key, actor.user_id, now)
            certificates.append(tuple(getattr(cert, a) for a in CERTIFICATE_COLUMNS))
            drafts.append(draft)
    rows = [chain(case, drafts, now)]
    if certificates:
        rows.append(fastpath.Rows(Certificate, CERTIFICATE_COLUMNS, certificates))
    rows.append(outbox(case, spec, outcome.effects, now))
    return rows


def _spawns(case: Case, spec: MatterSpec, outcome: Outcome, actor: Actor, now: datetime) -> None:
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
        last_hash=GENESIS,
        idempotency_key=key,
        parent=parent,
        bundle=bundle,
        **columns_of(spec, s, now),
    )
    values = {a: getattr(case, a) for a in CASE_COLUMNS}
    with _transaction(_own_transaction(case, outcome)):
        if fastpath.one_statement_writes():
            # The first event's hash covers the case id: draw it first, then write the
            # case, its events and messages in one statement.
            case.pk = fastpath.next_pk(Case)
            rows = _rows(case, spec, outcome, actor, now)
            values.update(last_hash=case.last_hash, event_count=case.event_count)
            fastpath.insert_with(Case, case.pk, values, rows)
        else:
            case.pk = fastpath.insert_one(Case, values)
            for r in _rows(case, spec, outcome, actor, now):
                fastpath.insert(r)
            fastpath.update_if_version(
                Case,
                case.pk,
                case.version,
                {"last_hash": case.last_hash, "event_count": case.event_count},
            )
        case._state.adding = False
        case._state.db = connection.alias
        _spawns(case, spec, outcome, actor, now)
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
        # On PostgreSQL the checks read outside a transaction and create_case writes one
        # statement; on SQLite everything sits in one write transaction.
        with _transaction(not fastpath.one_statement_writes()):
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
    """Take an action on a case: one transaction, guarded by the case's version.

    On SQLite the case is read inside the write transaction (BEGIN IMMEDIATE), so
    concurrent writers queue. On PostgreSQL it is read before the write, which the version
    check guards exactly as it did inside a transaction (no row lock was ever taken): a
    plain step is then one SELECT and one write statement."""
    now = now or timezone.now()
    with _transaction(not fastpath.one_statement_writes()):
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
    """Write an outcome over a loaded case; a concurrent change makes this raise Conflict
    and writes nothing."""
    old_version = case.version
    new = columns_of(spec, outcome.state, now, case)
    values = {k: v for k, v in new.items() if getattr(case, k) != v}  # rewrite only changes
    for name, value in new.items():
        setattr(case, name, value)
    case.version = old_version + 1
    with _transaction(_own_transaction(case, outcome)):
        try:
            rows = _rows(case, spec, outcome, actor, now)
            values.update(
                version=case.version,
                last_hash=case.last_hash,
                event_count=case.event_count,
                updated_at=now,
            )
            if fastpath.one_statement_writes():
                written = fastpath.update_with(Case, case.pk, old_version, values, rows)
            else:
                # A concurrent action that committed first already used this event's seq:
                # the unique (case, seq) index turns that race into a conflict.
                for r in rows:
                    fastpath.insert(r)
                written = fastpath.update_if_version(Case, case.pk, old_version, values)
        except IntegrityError:
            raise Conflict("办件已被他人更新，请刷新后重试", code="stale") from None
        if not written:
            raise Conflict("办件已被他人更新，请刷新后重试", code="stale")
        _spawns(case, spec, outcome, actor, now)
        if case.bundle_id:
            from tongban.services import bundles

            bundles.sync(case, now)


def allowed_actions(case: Case, user) -> list[str]:
    spec = catalog.spec_of(case.matter)
    return workflow.allowed_actions(spec, state_of(case), actor_for(user))
