"""Engine constructs added for the packs and requests: roles from a field, time limits by
an answer, internal fields, actions that set fields, keep inputs and notify roles,
comparisons between fields, products, and automation by the system."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tongban.engine.calendar import WorkCalendar
from tongban.engine.errors import Refusal
from tongban.engine.loader import parse_matter
from tongban.engine.workflow import SYSTEM_ACTOR, ActionInput, Actor, Membership, act, submit

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday
CAL = WorkCalendar.default()
ORG = "320507/320507103/320507103001"

MATTER = """
format: 1
code: ext_demo
name: 扩展写法演示
category: 测试
applicant: any
body: {level: district, department: 测试}
time_limit: {working_days: 10}
time_limits: {field: kind, values: {紧急: {minutes: 120}}}
fields:
  - {key: kind, label: 类型, type: choice, options: [紧急, 一般]}
  - {key: ordered, label: 订单数量, type: number, integer: true}
  - {key: rate, label: 单价, type: number}
  - {key: department, label: 部门, type: choice, options: [dept_a, dept_b],
     internal: true, required: false}
  - {key: flagged, label: 已标记, type: boolean, internal: true, required: false}
computed:
  - {key: income, label: 收入, rule: product, of: [accepted, rate]}
workflow:
  start: new
  states:
    new: {label: 待派, role: dispatcher, level: district}
    work:
      label: 办理中
      role_from: department
      roles_allowed: [dept_a, dept_b]
      level: district
      time_limit: {working_days: 5}
      time_limits: {field: kind, values: {紧急: {minutes: 120}}}
    done: {label: 办结, final: true, outcome: completed}
  actions:
    route: {label: 自动派单, from: new, to: work, by: [system], edits: [department]}
    check:
      label: 质检
      from: work
      kind: note
      keep_inputs: true
      inputs: [{key: accepted, label: 合格数量, type: number, integer: true}]
    flag: {label: 标记, from: work, kind: note, sets: {flagged: true}, notify: [supervisor]}
    finish:
      label: 办结
      from: work
      to: done
      when: {field: accepted, op: le, value_field: ordered}
"""


@pytest.fixture(scope="module")
def spec():
    return parse_matter(MATTER, "ext.yaml").spec


def staff(role, user_id=7):
    return Actor(user_id, memberships=frozenset({Membership(role, "320507", "district")}))


def start(spec, **data):
    raw = {"kind": "一般", "ordered": 10, "rate": 2.5, **data}
    return submit(spec, Actor(1), raw, ORG, NOW, CAL).state


def test_internal_fields_cannot_be_set_by_the_applicant(spec):
    case = start(spec, department="dept_a", flagged=True)
    assert "department" not in case.data and "flagged" not in case.data


def test_time_limit_by_answer(spec):
    urgent = start(spec, kind="紧急")
    normal = start(spec)
    assert (urgent.due_at - NOW).total_seconds() == 7200
    assert normal.due_at > urgent.due_at


def test_system_routes_and_role_comes_from_the_field(spec):
    case = start(spec)
    with pytest.raises(Refusal):
        act(
            spec,
            case,
            staff("dispatcher"),
            "route",
            ActionInput(data={"department": "dept_a"}),
            NOW,
            CAL,
        )
    routed = act(
        spec, case, SYSTEM_ACTOR, "route", ActionInput(data={"department": "dept_b"}), NOW, CAL
    ).state
    assert routed.state == "work"
    with pytest.raises(Refusal) as exc:
        act(spec, routed, staff("dept_a"), "flag", ActionInput(), NOW, CAL)
    assert exc.value.code == "wrong_role"
    flagged = act(spec, routed, staff("dept_b"), "flag", ActionInput(), NOW, CAL)
    assert flagged.state.data["flagged"] is True
    assert any(e.payload.get("role") == "supervisor" for e in flagged.effects)


def test_kept_inputs_feed_products_and_field_comparisons(spec):
    routed = act(
        spec,
        start(spec),
        SYSTEM_ACTOR,
        "route",
        ActionInput(data={"department": "dept_a"}),
        NOW,
        CAL,
    ).state
    too_many = act(
        spec, routed, staff("dept_a"), "check", ActionInput(data={"accepted": 12}), NOW, CAL
    ).state
    assert too_many.data["accepted"] == 12 and too_many.data["income"] == 30
    with pytest.raises(Refusal) as exc:
        act(spec, too_many, staff("dept_a"), "finish", ActionInput(), NOW, CAL)
    assert exc.value.code == "condition_failed"
    fine = act(
        spec, too_many, staff("dept_a"), "check", ActionInput(data={"accepted": 8}), NOW, CAL
    ).state
    assert fine.data["income"] == 20
    assert act(spec, fine, staff("dept_a"), "finish", ActionInput(), NOW, CAL).state.state == "done"
