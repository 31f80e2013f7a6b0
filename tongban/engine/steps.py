"""What taking a step does: entering a state (deadlines, time limits) and its effects, and
the handler of each kind of action (move, countersign / or-sign, transfer, extend, note).

Called by the interpreter (`workflow.act` / `workflow.submit`) once the action is known to
be allowed; pure functions over frozen data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from tongban.engine import errors as E
from tongban.engine.calendar import Duration, WorkCalendar
from tongban.engine.conditions import evaluate
from tongban.engine.errors import Refusal
from tongban.engine.runtime import Actor, CaseState, Effect, EventDraft, Outcome
from tongban.engine.schema import DurationSpec, MatterSpec, StateSpec


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


def enter(
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


def entry_effects(spec: MatterSpec, case: CaseState, actor: Actor) -> list[Effect]:
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


def state_roles(st: StateSpec, data: Mapping[str, Any]) -> tuple[str, ...]:
    if st.sign:
        return st.sign.roles
    role = state_role(st, data)
    return (role,) if role else ()


def unsigned_sign_roles(st: StateSpec, case: CaseState) -> list[str]:
    signed = {role for role, _ in case.signatures}
    return [r for r in st.sign.roles if r not in signed]


def unsigned_roles(spec: MatterSpec, case: CaseState, actor: Actor) -> list[str]:
    st = spec.state(case.state)
    signed = {role for role, _ in case.signatures}
    held = {m.role for m in actor.holds(st.sign.roles, case.org_path, st.level)}
    return [r for r in st.sign.roles if r in held and r not in signed]


def move(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    target = action.to
    if target is None:
        choices = [s for s in action.back_to if s in case.visited and s != case.state]
        if inp.target not in choices:
            labels = "、".join(spec.state(s).label for s in choices) or "（无可退回的环节）"
            raise Refusal(E.INVALID_INPUT, "请选择退回到哪个环节", {"target": f"可选：{labels}"})
        target = inp.target
        payload["target"] = target
    new = enter(spec, case, target, now, cal)
    event = EventDraft("moved", case.state, target, actor.user_id, name, comment, payload)
    return Outcome(new, (event,), tuple(entry_effects(spec, new, actor)))


def sign(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    remaining = unsigned_roles(spec, case, actor)
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
    new = enter(spec, case, action.to, now, cal)
    payload["signatures"] = [list(s) for s in signatures]
    event = EventDraft("moved", case.state, action.to, actor.user_id, name, comment, payload)
    return Outcome(new, (event,), tuple(entry_effects(spec, new, actor)))


def transfer(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    st = spec.state(case.state)
    assignee = inp.assignee
    if assignee is None:
        raise Refusal(E.INVALID_INPUT, "请选择转交给谁", {"assignee": "请选择经办人"})
    if assignee.user_id == actor.user_id:
        raise Refusal(E.INVALID_INPUT, "不能转交给自己", {"assignee": "请选择其他经办人"})
    if not assignee.holds(state_roles(st, case.data), case.org_path, st.level):
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


def extend(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
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


def note(spec, case, actor, name, action, inp, comment, payload, now, cal) -> Outcome:
    event = EventDraft("noted", case.state, case.state, actor.user_id, name, comment, payload)
    return Outcome(case, (event,), ())


HANDLERS = {"move": move, "sign": sign, "transfer": transfer, "extend": extend, "note": note}
