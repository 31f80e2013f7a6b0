"""The workflow interpreter: (spec, case state, actor, action, input, now) → outcome.

Pure functions over frozen data. The service layer loads the state, calls these, and writes
the returned state, events and effects in one transaction; nothing here touches storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tongban.engine import errors as E
from tongban.engine.calendar import Duration, WorkCalendar
from tongban.engine.computed import compute
from tongban.engine.conditions import evaluate
from tongban.engine.errors import Refusal
from tongban.engine.fields import validate_fields
from tongban.engine.materials import validate_materials
from tongban.engine.schema import APPLICANT, SYSTEM, ActionSpec, DurationSpec, MatterSpec, StateSpec


@dataclass(frozen=True)
class Membership:
    """A role held at a node of the organisation tree (path like `320507/320507104`)."""

    role: str
    org_path: str
    level: str


def within(case_path: str, org_path: str) -> bool:
    """Is the case's org the membership's org or below it?"""
    return case_path == org_path or case_path.startswith(org_path + "/")


@dataclass(frozen=True)
class Actor:
    user_id: int
    name: str = ""
    memberships: frozenset[Membership] = frozenset()
    system: bool = False

    @property
    def role_codes(self) -> frozenset[str]:
        return frozenset(m.role for m in self.memberships)

    def holds(self, roles: tuple[str, ...], case_path: str, level: str | None) -> list[Membership]:
        return [
            m
            for m in self.memberships
            if m.role in roles
            and within(case_path, m.org_path)
            and (level is None or m.level == level)
        ]


SYSTEM_ACTOR = Actor(user_id=0, name="系统", system=True)


@dataclass(frozen=True)
class CaseState:
    """Everything the engine needs to know about a running case."""

    state: str
    data: Mapping[str, Any]
    applicant_id: int
    org_path: str
    entered_at: datetime
    materials: Mapping[str, Any] = field(default_factory=dict)
    deadline: datetime | None = None
    due_at: datetime | None = None
    handler_id: int | None = None
    signatures: tuple[tuple[str, int], ...] = ()
    visited: tuple[str, ...] = ()
    extensions: int = 0  # extensions granted in the current step
    overdue: bool = False  # the current step's deadline has passed and was reported


@dataclass(frozen=True)
class ActionInput:
    comment: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    target: str | None = None  # for back_to (退回): the chosen earlier step
    assignee: Actor | None = None  # for transfer (转交)
    extension: DurationSpec | None = None  # for extend (延期); default: the maximum
    materials: Mapping[str, Any] | None = None  # replaced materials (补正), when edits allow


@dataclass(frozen=True)
class EventDraft:
    kind: str  # submitted, moved, signed, transferred, extended, overdue, reported
    from_state: str | None
    to_state: str
    actor_id: int
    action: str = ""
    comment: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """Something the service layer does in the same transaction as the state change."""

    kind: str  # certificate, spawn, notify
    key: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    state: CaseState
    events: tuple[EventDraft, ...]
    effects: tuple[Effect, ...] = ()


def duration(spec: DurationSpec) -> Duration:
    return Duration(spec.amount, spec.unit)


def failed_checks(spec: MatterSpec, data: Mapping[str, Any]) -> dict[str, str]:
    """Cross-field rules that do not hold, as {field: message}. A rule whose fields are
    not all answered yet is not judged (the required-field check speaks for them)."""
    out: dict[str, str] = {}
    for check in spec.checks:
        names = [check.rule.field, check.rule.value_field]
        if any(n is not None and data.get(n) is None for n in names):
            continue
        if not evaluate(check.rule, data):
            out.setdefault(check.field, check.message)
    return out


def limit_for(base: DurationSpec | None, by, data: Mapping[str, Any]) -> DurationSpec | None:
    """The time limit that applies to this case: by an answer if the spec says so."""
    if by is not None and isinstance(data.get(by.field), str) and data[by.field] in by.values:
        return by.values[data[by.field]]
    return base


def state_role(st: StateSpec, data: Mapping[str, Any]) -> str | None:
    """Who works in a state: its role, or the role a case field names (one allowed)."""
    if st.role_from:
        value = data.get(st.role_from)
        return value if value in st.roles_allowed else None
    return st.role


def _enter(
    spec: MatterSpec, case: CaseState, target: str, now: datetime, cal: WorkCalendar
) -> CaseState:
    st = spec.state(target)
    due_at = case.due_at
    leaving = spec.state(case.state) if case.state in spec.workflow.states else None
    if leaving is not None and leaving.pause_clock and not st.final:
        # The promised time limit restarts when the applicant has corrected (补正).
        due_at = cal.add(now, duration(limit_for(spec.time_limit, spec.time_limits, case.data)))
    step = limit_for(st.time_limit, st.time_limits, case.data)
    return replace(
        case,
        state=target,
        entered_at=now,
        deadline=cal.add(now, duration(step)) if step else None,
        due_at=due_at,
        handler_id=None,
        signatures=(),
        visited=(*case.visited, target) if target not in case.visited else case.visited,
        extensions=0,
        overdue=False,
    )


def _entry_effects(spec: MatterSpec, case: CaseState, actor: Actor) -> list[Effect]:
    effects = [
        Effect(
            "notify",
            "state_changed",
            {"to": "applicant", "state": case.state, "label": spec.state(case.state).label},
        )
    ]
    for cert in spec.outputs.certificates:
        if cert.on == case.state:
            effects.append(Effect("certificate", cert.key))
    for i, sp in enumerate(spec.outputs.spawn):
        if sp.on == case.state and (
            sp.when is None or evaluate(sp.when, case.data, actor.role_codes)
        ):
            effects.append(Effect("spawn", str(i), {"matter": sp.matter}))
    return effects


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
    case = _enter(
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
    return Outcome(case, (event,), tuple(_entry_effects(spec, case, actor)))


def _state_roles(st: StateSpec, data: Mapping[str, Any]) -> tuple[str, ...]:
    if st.sign:
        return st.sign.roles
    role = state_role(st, data)
    return (role,) if role else ()


def _authorise(
    spec: MatterSpec, case: CaseState, actor: Actor, action: ActionSpec
) -> list[Membership]:
    """Return the memberships the actor acts under ([] for the applicant), or refuse."""
    st = spec.state(case.state)
    roles = action.by or _state_roles(st, case.data)
    if APPLICANT in roles and actor.user_id == case.applicant_id and not actor.system:
        return []
    if SYSTEM in roles and actor.system:
        return []  # automation the matter allows, e.g. routing a request
    staff_roles = tuple(r for r in roles if r != APPLICANT)
    if not staff_roles or not any(m.role in staff_roles for m in actor.memberships):
        need = "、".join(roles)
        raise Refusal(E.WRONG_ROLE, f"您没有执行「{action.label}」的角色（需要：{need}）")
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
        # A condition on the action's own inputs can only be judged when they are given.
        if (
            action.when is not None
            and not action.inputs
            and not evaluate(action.when, case.data, actor.role_codes)
        ):
            continue
        if action.kind == "sign" and not _unsigned_roles(spec, case, actor):
            continue
        if action.kind == "extend" and (
            (action.max_times and case.extensions >= action.max_times) or case.overdue
        ):
            continue
        result.append(name)
    return result


def _unsigned_sign_roles(st: StateSpec, case: CaseState) -> list[str]:
    signed = {role for role, _ in case.signatures}
    return [r for r in st.sign.roles if r not in signed]


def _unsigned_roles(spec: MatterSpec, case: CaseState, actor: Actor) -> list[str]:
    st = spec.state(case.state)
    signed = {role for role, _ in case.signatures}
    held = {m.role for m in actor.holds(st.sign.roles, case.org_path, st.level)}
    return [r for r in st.sign.roles if r in held and r not in signed]


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
    handler = {
        "move": _move,
        "sign": _sign,
        "transfer": _transfer,
        "extend": _extend,
        "note": _note,
    }[action.kind]
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


def _move(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    target = action.to
    if target is None:
        choices = [s for s in action.back_to if s in case.visited and s != case.state]
        if inp.target not in choices:
            labels = "、".join(spec.state(s).label for s in choices) or "（无可退回的环节）"
            raise Refusal(E.INVALID_INPUT, "请选择退回到哪个环节", {"target": f"可选：{labels}"})
        target = inp.target
        payload["target"] = target
    new = _enter(spec, case, target, now, cal)
    event = EventDraft("moved", case.state, target, actor.user_id, name, comment, payload)
    return Outcome(new, (event,), tuple(_entry_effects(spec, new, actor)))


def _sign(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    remaining = _unsigned_roles(spec, case, actor)
    if not remaining:
        raise Refusal(E.ALREADY_SIGNED, "您所在的单位已会签，无需重复签署")
    role = remaining[0]
    signatures = (*case.signatures, (role, actor.user_id))
    st = spec.state(case.state)
    signed_roles = {r for r, _ in signatures}
    payload["role"] = role
    done = st.sign.mode == "any" or signed_roles >= set(st.sign.roles)
    if not done:
        payload["progress"] = [len(signed_roles), len(st.sign.roles)]
        new = replace(case, signatures=signatures)
        event = EventDraft("signed", case.state, case.state, actor.user_id, name, comment, payload)
        return Outcome(new, (event,), ())
    new = _enter(spec, case, action.to, now, cal)
    payload["signatures"] = [list(s) for s in signatures]
    event = EventDraft("moved", case.state, action.to, actor.user_id, name, comment, payload)
    return Outcome(new, (event,), tuple(_entry_effects(spec, new, actor)))


def _transfer(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    st = spec.state(case.state)
    assignee = inp.assignee
    if assignee is None:
        raise Refusal(E.INVALID_INPUT, "请选择转交给谁", {"assignee": "请选择经办人"})
    if assignee.user_id == actor.user_id:
        raise Refusal(E.INVALID_INPUT, "不能转交给自己", {"assignee": "请选择其他经办人"})
    if not assignee.holds(_state_roles(st, case.data), case.org_path, st.level):
        raise Refusal(
            E.INVALID_INPUT,
            "接收人没有办理该环节的角色或不在管辖范围内",
            {"assignee": "请选择其他经办人"},
        )
    payload["assignee"] = assignee.user_id
    new = replace(case, handler_id=assignee.user_id)
    event = EventDraft("transferred", case.state, case.state, actor.user_id, name, comment, payload)
    notify = Effect("notify", "transferred", {"to": "user", "user_id": assignee.user_id})
    return Outcome(new, (event,), (notify,))


def _extend(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    if case.deadline is None:
        raise Refusal(E.NOT_ALLOWED_IN_STATE, "当前环节没有办理时限，无需延期")
    if now >= case.deadline or case.overdue:
        raise Refusal(E.DEADLINE_PASSED, "已超过办理时限，不能再申请延期，请尽快办结")
    if action.max_times and case.extensions >= action.max_times:
        raise Refusal(E.NOT_ALLOWED_IN_STATE, f"本环节最多延期 {action.max_times} 次")
    ext = inp.extension or action.max_extension
    deadline = cal.add(case.deadline, duration(ext))
    # Compare what the extension does, not its numbers: 4 working hours is within 3
    # working days even though the units differ.
    if deadline > cal.add(case.deadline, duration(action.max_extension)):
        limit = duration(action.max_extension).label_zh()
        raise Refusal(E.INVALID_INPUT, f"延期不能超过{limit}", {"extension": f"最多{limit}"})
    payload.update(
        {
            "extension": duration(ext).label_zh(),
            "old_deadline": case.deadline,
            "new_deadline": deadline,
        }
    )
    new = replace(case, deadline=deadline, extensions=case.extensions + 1)
    event = EventDraft("extended", case.state, case.state, actor.user_id, name, comment, payload)
    return Outcome(new, (event,), ())


def _note(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    event = EventDraft("noted", case.state, case.state, actor.user_id, name, comment, payload)
    return Outcome(case, (event,), ())


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
        for role in (_unsigned_sign_roles(st, case) if st.sign else (state_role(st, case.data),))
    ]
    if st.escalate_to:
        effects.append(Effect("notify", "escalated", {"to": "role", "role": st.escalate_to}))
    return Outcome(new, (event,), tuple(effects))
