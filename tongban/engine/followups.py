"""Recurring follow-up reports (e.g. a daily check-in after a resumption receipt) and
reminders for dated rows (e.g. instalments): pure rules, the service layer stores them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tongban.engine import errors as E
from tongban.engine.calendar import WorkCalendar
from tongban.engine.conditions import evaluate
from tongban.engine.errors import Refusal
from tongban.engine.fields import validate_fields
from tongban.engine.schema import FollowupSpec, MatterSpec, ReminderSpec
from tongban.engine.workflow import (
    Actor,
    CaseState,
    Effect,
    EventDraft,
    Outcome,
    duration,
    state_role,
)

TZ = ZoneInfo("Asia/Shanghai")
MAX_PERIODS = 10_000
MOBILE = re.compile(r"1\d{10}")  # as the phone field stores a mobile number


def followup(spec: MatterSpec, key: str) -> FollowupSpec:
    fu = next((f for f in spec.outputs.followups if f.key == key), None)
    if fu is None:
        raise Refusal(E.UNKNOWN_ACTION, f"事项「{spec.name}」没有报告 '{key}'")
    return fu


def period_bounds(
    fu: FollowupSpec, start: datetime, now: datetime, cal: WorkCalendar
) -> tuple[int, datetime, datetime]:
    """(index, period start, period end) of the period that contains `now`."""
    index, begin = 0, start
    step = duration(fu.every)
    end = cal.add(begin, step)
    while end <= now and index < MAX_PERIODS:
        index, begin, end = index + 1, end, cal.add(end, step)
    return index, begin, end


def report(
    spec: MatterSpec,
    case: CaseState,
    actor: Actor,
    key: str,
    raw: Mapping[str, Any],
    period: int,
) -> Outcome:
    """File one period's report; the applicant files it (or staff of the case's step)."""
    fu = followup(spec, key)
    if case.state not in fu.while_in:
        raise Refusal(E.NOT_ALLOWED_IN_STATE, f"当前不需要提交「{fu.name}」")
    st = spec.state(case.state)
    is_applicant = actor.user_id == case.applicant_id
    staff = actor.holds((st.role,), case.org_path, None) if st.role else []
    if not is_applicant and not staff:
        raise Refusal(E.WRONG_ROLE, f"只有申请人或经办人可以提交「{fu.name}」")
    data, errs = validate_fields(fu.fields, raw)
    if errs:
        raise Refusal(E.INVALID_INPUT, "报告内容有误，请按提示修改", errs)
    event = EventDraft(
        "reported",
        case.state,
        case.state,
        actor.user_id,
        payload={"report": key, "period": period, "data": data},
    )
    return Outcome(case, (event,), ())


def missed(spec: MatterSpec, case: CaseState, key: str, period: int, due: datetime) -> Outcome:
    fu = followup(spec, key)
    event = EventDraft(
        "report_missed",
        case.state,
        case.state,
        0,
        payload={"report": key, "period": period, "due": due},
    )
    notify = Effect(
        "notify", "report_missed", {"to": "applicant", "report": fu.name, "period": period}
    )
    return Outcome(case, (event,), (notify,))


def due_rows(r: ReminderSpec, data: Mapping[str, Any], today: date) -> list[int]:
    """Indexes of rows whose date has passed and that are not done."""
    out = []
    for i, row in enumerate(data.get(r.table) or []):
        if not isinstance(row, Mapping) or row.get(r.done_field) is True:
            continue
        try:
            when = date.fromisoformat(str(row.get(r.date_field))[:10])
        except ValueError:
            continue
        if when < today:
            out.append(i)
    return out


def remind(spec: MatterSpec, case: CaseState, r: ReminderSpec, row: int) -> Outcome:
    item = (case.data.get(r.table) or [])[row]
    payload = {"reminder": r.key, "row": row, "due": item.get(r.date_field)}
    event = EventDraft("reminded", case.state, case.state, 0, payload=payload)
    effects = []
    for who in r.notify:
        if who == "applicant":
            effects.append(
                Effect("notify", "reminder", {"to": "applicant", **payload, "name": r.name})
            )
        elif who == "handler":
            if (
                case.handler_id is None
                and state_role(spec.state(case.state), case.data) in r.notify
            ):
                continue  # no handler yet: the step's role, told anyway, stands in for one
            effects.append(
                Effect("notify", "reminder", {"to": "handler", **payload, "name": r.name})
            )
        else:
            if (
                case.handler_id is not None
                and "handler" in r.notify
                and who == state_role(spec.state(case.state), case.data)
            ):
                continue  # the step's named handler is told; the rest of the role is not
            effects.append(
                Effect("notify", "reminder", {"to": "role", "role": who, **payload, "name": r.name})
            )
    for text in texts(spec, case.data, r, item):
        effects.append(
            Effect("notify", "reminder", {"to": "sms", **payload, "name": r.name, **text})
        )
    return Outcome(replace(case), (event,), tuple(effects))


def texts(
    spec: MatterSpec, data: Mapping[str, Any], r: ReminderSpec, item: Mapping[str, Any]
) -> list[dict[str, str]]:
    """One text message per mobile number that `r.sms` picks out of the case's tables
    (a number listed twice is texted once): {phone, person, text}."""
    columns = {f.key: f.label for f in spec.field(r.table).fields}
    when = f"{columns.get(r.date_field, r.date_field)} {item.get(r.date_field)}"
    done = columns.get(r.done_field, r.done_field)
    out: dict[str, dict[str, str]] = {}
    for to in r.sms:
        for person in data.get(to.table) or []:
            if not isinstance(person, Mapping):
                continue
            if to.when is not None and not evaluate(to.when, person):
                continue
            phone = str(person.get(to.phone) or "")
            if not MOBILE.fullmatch(phone) or phone in out:
                continue  # a landline cannot take a text message
            name = str(person.get(to.name) or "") if to.name else ""
            text = (
                f"{name}您好：「{spec.name}」{r.name}：{when} 的一期尚未登记为{done}。"
                "请尽快办理；如已办理，请联系经办人登记。"
            )
            out[phone] = {"phone": phone, "person": name, "text": text}
    return list(out.values())
