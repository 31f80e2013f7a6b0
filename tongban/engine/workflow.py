"""The workflow interpreter: (spec, case state, actor, action, input, now) → outcome.

Pure functions over frozen data. The service layer loads the state, calls these, and writes
the returned state, events and effects in one transaction; nothing here touches storage.
The data types live in `runtime`, entering states and the per-kind action handlers in
`steps`; both are re-exported here, so `workflow` stays the one import for callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from tongban.engine import errors as E
from tongban.engine.calendar import WorkCalendar
from tongban.engine.computed import compute
from tongban.engine.conditions import evaluate, fields_of
from tongban.engine.errors import Refusal
from tongban.engine.fields import validate_fields
from tongban.engine.materials import validate_materials
from tongban.engine.runtime import (
    SYSTEM_ACTOR,
    ActionInput,
    Actor,
    CaseState,
    Effect,
    EventDraft,
    Membership,
    Outcome,
    within,
)
from tongban.engine.schema import APPLICANT, SYSTEM, ActionSpec, MatterSpec
from tongban.engine.steps import (
    HANDLERS,
    duration,
    enter,
    entry_effects,
    failed_checks,
    limit_for,
    state_role,
    state_roles,
    unsigned_roles,
    unsigned_sign_roles,
)

__all__ = [
    "SYSTEM_ACTOR",
    "ActionInput",
    "Actor",
    "CaseState",
    "Effect",
    "EventDraft",
    "Membership",
    "Outcome",
    "act",
    "allowed_actions",
    "duration",
    "failed_checks",
    "limit_for",
    "state_role",
    "submit",
    "sweep",
    "within",
]


def submit(
    spec: MatterSpec,
    actor: Actor,
    raw: Mapping[str, Any],
    org_path: str,
    now: datetime,
    cal: WorkCalendar,
    *,
    applicant_id: int | None = None,
    materials: Mapping[str, Any] | None = None,
    trusted: bool = False,
) -> Outcome:
    """Validate an application and open the case in the workflow's start state.

    `applicant_id` differs from the actor when a window clerk files for a walk-in (代办).
    """
    if not trusted and isinstance(raw, Mapping):
        # Internal fields (the department a request is routed to, …) are set by staff or
        # the system, never by whoever fills in the form.
        internal = {f.key for f in spec.fields if f.internal}
        raw = {k: v for k, v in raw.items() if k not in internal}
    data, errs = validate_fields(spec.fields, raw)
    data = compute(spec.computed, data)
    errs.update({k: v for k, v in failed_checks(spec, data).items() if k not in errs})
    files, file_errs = validate_materials(spec.materials, materials)
    errs.update(file_errs)
    if errs:
        raise Refusal(E.INVALID_INPUT, "申请内容有误，请按提示修改", errs)
    applicant = actor.user_id if applicant_id is None else applicant_id
    blank = CaseState(
        state="",
        data=data,
        applicant_id=applicant,
        org_path=org_path,
        entered_at=now,
        materials=files,
    )
    promised = limit_for(spec.time_limit, spec.time_limits, data)
    case = enter(
        spec,
        replace(blank, due_at=cal.add(now, duration(promised))),
        spec.workflow.start,
        now,
        cal,
    )
    event = EventDraft(
        "submitted",
        None,
        case.state,
        actor.user_id,
        payload={
            "data": data,
            "materials": files,
            "on_behalf_of": applicant if applicant != actor.user_id else None,
        },
    )
    return Outcome(case, (event,), tuple(entry_effects(spec, case, actor)))


def _authorise(
    spec: MatterSpec, case: CaseState, actor: Actor, action: ActionSpec
) -> list[Membership]:
    """Return the memberships the actor acts under ([] for the applicant), or refuse."""
    st = spec.state(case.state)
    roles = action.by or state_roles(st, case.data)
    if APPLICANT in roles and actor.user_id == case.applicant_id and not actor.system:
        return []
    if SYSTEM in roles and actor.system:
        return []  # automation the matter allows, e.g. routing a request
    staff_roles = tuple(r for r in roles if r != APPLICANT)
    if not staff_roles or not any(m.role in staff_roles for m in actor.memberships):
        need = "、".join(roles)
        raise Refusal(
            E.WRONG_ROLE,
            f"您没有执行「{action.label}」的角色（需要：{need}）",
            roles=tuple(roles),
        )
    held = actor.holds(staff_roles, case.org_path, st.level)
    if not held:
        raise Refusal(E.OUTSIDE_JURISDICTION, "该案件不在您的管辖范围内")
    if case.handler_id is not None and case.handler_id != actor.user_id:
        raise Refusal(E.NOT_HANDLER, "该案件已转交给其他经办人办理")
    return held


def _check_action(spec: MatterSpec, case: CaseState, name: str) -> ActionSpec:
    action = spec.workflow.actions.get(name)
    if action is None:
        raise Refusal(E.UNKNOWN_ACTION, f"事项「{spec.name}」没有动作 '{name}'")
    if case.state not in action.from_:
        label = spec.state(case.state).label if case.state in spec.workflow.states else case.state
        raise Refusal(
            E.NOT_ALLOWED_IN_STATE, f"案件当前处于「{label}」，不能执行「{action.label}」"
        )
    return action


def allowed_actions(spec: MatterSpec, case: CaseState, actor: Actor) -> list[str]:
    """Actions the actor could take now (inputs and comments still to be checked)."""
    result = []
    for name, action in spec.workflow.actions.items():
        if case.state not in action.from_:
            continue
        try:
            _authorise(spec, case, actor, action)
        except Refusal:
            continue
        # A condition on the action's own inputs can only be judged when they are given;
        # one on the case's data alone (e.g. "only for named requests") is judged now.
        if (
            action.when is not None
            and not fields_of(action.when) & {f.key for f in action.inputs}
            and not evaluate(action.when, case.data, actor.role_codes)
        ):
            continue
        if action.kind == "sign" and not unsigned_roles(spec, case, actor):
            continue
        if action.kind == "extend" and (
            (action.max_times and case.extensions >= action.max_times) or case.overdue
        ):
            continue
        result.append(name)
    return result


def act(
    spec: MatterSpec,
    case: CaseState,
    actor: Actor,
    name: str,
    inp: ActionInput,
    now: datetime,
    cal: WorkCalendar,
) -> Outcome:
    action = _check_action(spec, case, name)
    _authorise(spec, case, actor, action)
    comment = (inp.comment or "").strip()
    if action.comment == "required" and not comment:
        raise Refusal(
            E.COMMENT_REQUIRED, f"「{action.label}」需要填写意见", {"comment": "请填写意见"}
        )
    if action.comment == "none":
        comment = ""
    inputs, errs = validate_fields(action.inputs, inp.data)
    edits, edit_errs = _edits(spec, action, case, inp.data)
    errs.update(edit_errs)
    files, file_errs = _material_edits(spec, action, case, inp.materials)
    errs.update(file_errs)
    if errs:
        raise Refusal(E.INVALID_INPUT, "填写内容有误，请按提示修改", errs)
    for key, value in action.sets.items():
        if case.data.get(key) != value:
            edits[key] = (case.data.get(key), value)
    if action.keep_inputs:
        for key, value in inputs.items():
            if case.data.get(key) != value:
                edits[key] = (case.data.get(key), value)
    merged = {**case.data, **{k: new for k, (_, new) in edits.items()}}
    data = compute(spec.computed, {k: v for k, v in merged.items() if v is not None})
    if edits:
        broken = failed_checks(spec, data)
        if broken:
            raise Refusal(E.INVALID_INPUT, "填写内容有误，请按提示修改", broken)
    if action.when is not None and not evaluate(action.when, {**data, **inputs}, actor.role_codes):
        raise Refusal(E.CONDITION_FAILED, f"当前不满足「{action.label}」的条件")
    payload: dict[str, Any] = {}
    if inputs:
        payload["inputs"] = inputs
    if edits:
        payload["edits"] = {k: list(v) for k, v in edits.items()}
    if files is not None:
        payload["materials"] = files
    updated = replace(case, data=data, materials=files if files is not None else case.materials)
    handler = HANDLERS[action.kind]
    outcome = handler(spec, updated, actor, name, action, inp, comment, payload, now, cal)
    if not action.notify:
        return outcome
    told = tuple(
        Effect(
            "notify", "action_taken", {"to": "role", "role": r, "action": name, "by": actor.user_id}
        )
        for r in action.notify
    )
    return replace(outcome, effects=(*outcome.effects, *told))


def _edits(spec, action, case, raw) -> tuple[dict[str, tuple[Any, Any]], dict[str, str]]:
    if not action.edits:
        return {}, {}
    if "*" in action.edits:  # "everything the applicant filled in": not internal fields
        allowed = [f for f in spec.fields if not f.internal]
    else:
        allowed = [f for f in spec.fields if f.key in action.edits]
    # Only keys the actor actually sent are edited; the rest keep their values.
    present = [f for f in allowed if f.key in raw]
    clean, errs = validate_fields(present, raw)
    # An optional field sent blank is cleared, not left at its old value.
    cleared = {f.key: None for f in present if f.key not in clean and f.key not in errs}
    new = {**cleared, **clean}
    changes = {k: (case.data.get(k), v) for k, v in new.items() if case.data.get(k) != v}
    return changes, errs


def _material_edits(spec, action, case, raw) -> tuple[dict | None, dict[str, str]]:
    """Materials replaced in a correction: only keys sent are replaced, the rest stay."""
    if not raw or not ("*" in action.edits or "materials" in action.edits):
        return None, {}
    merged = {**case.materials, **raw}
    clean, errs = validate_materials(spec.materials, merged)
    return clean, errs


def sweep(spec: MatterSpec, case: CaseState, now: datetime) -> Outcome | None:
    """Mark the current step overdue once its deadline has passed; escalate it."""
    st = spec.workflow.states.get(case.state)
    if st is None or st.final or case.deadline is None or case.overdue or now <= case.deadline:
        return None
    new = replace(case, overdue=True)
    payload = {"deadline": case.deadline, "escalate_to": st.escalate_to}
    event = EventDraft("overdue", case.state, case.state, SYSTEM_ACTOR.user_id, payload=payload)
    effects = [
        Effect("notify", "overdue", {"to": "handler", "state": case.state, "role": role})
        for role in (unsigned_sign_roles(st, case) if st.sign else (state_role(st, case.data),))
    ]
    if st.escalate_to:
        effects.append(Effect("notify", "escalated", {"to": "role", "role": st.escalate_to}))
    return Outcome(new, (event,), tuple(effects))
