"""Workflow engine: targeted cases of actions, refusals, sweeping, resubmission and extensions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.engine.conftest import (
    ROAD_APPLICATION,
    ROAD_MATERIALS,
    STREET_A,
    STREET_B,
    at,
    staff,
)
from tongban.engine import errors as E
from tongban.engine.errors import Refusal
from tongban.engine.loader import parse_matter
from tongban.engine.schema import DurationSpec
from tongban.engine.workflow import (
    ActionInput,
    Actor,
    CaseState,
    act,
    allowed_actions,
    submit,
    sweep,
)

# -- targeted cases --------------------------------------------------------------------------

APPLICANT = Actor(1001)
CLERK_A = staff(2001, ("clerk", STREET_A, "street"))
CLERK_B = staff(2002, ("clerk", STREET_B, "street"))
REVIEWER_A = staff(2101, ("reviewer", STREET_A, "street"))
MONDAY_9 = at("2026-03-02 09:00")


def _submitted(road, cal, data=ROAD_APPLICATION) -> CaseState:
    return submit(
        road.spec, APPLICANT, data, STREET_A, MONDAY_9, cal, materials=ROAD_MATERIALS
    ).state


def test_allowed_actions_per_actor_in_the_first_step(road, cal):
    case = _submitted(road, cal)
    assert allowed_actions(road.spec, case, APPLICANT) == ["withdraw"]
    assert allowed_actions(road.spec, case, CLERK_A) == ["accept", "request_correction", "refuse"]
    assert allowed_actions(road.spec, case, CLERK_B) == []
    assert allowed_actions(road.spec, case, REVIEWER_A) == []
    assert allowed_actions(road.spec, case, Actor(1002)) == []


def test_clerk_filing_for_a_walk_in_makes_the_walk_in_the_applicant(road, cal):
    out = submit(
        road.spec,
        CLERK_A,
        ROAD_APPLICATION,
        STREET_A,
        MONDAY_9,
        cal,
        applicant_id=1001,
        materials=ROAD_MATERIALS,
    )
    assert out.state.applicant_id == 1001
    assert out.events[0].actor_id == 2001
    assert out.events[0].payload["on_behalf_of"] == 1001
    # The walk-in, not the clerk, may withdraw it.
    assert allowed_actions(road.spec, out.state, APPLICANT) == ["withdraw"]
    assert "withdraw" not in allowed_actions(road.spec, out.state, CLERK_A)


def test_unknown_action_is_refused(road, cal):
    case = _submitted(road, cal)
    with pytest.raises(Refusal) as exc:
        act(road.spec, case, CLERK_A, "acept", ActionInput(), MONDAY_9, cal)
    assert exc.value.code == E.UNKNOWN_ACTION


def test_sweep_boundary_is_the_deadline_itself(road, cal):
    case = _submitted(road, cal)
    assert case.deadline == at("2026-03-03 17:30")
    assert sweep(road.spec, case, at("2026-03-03 17:30")) is None
    out = sweep(road.spec, case, at("2026-03-03 17:30:01"))
    assert out is not None and out.state.overdue
    assert sweep(road.spec, out.state, at("2026-03-10 09:00")) is None


def test_leaving_an_overdue_step_clears_overdue_and_sets_a_fresh_deadline(road, cal):
    case = _submitted(road, cal)
    late = sweep(road.spec, case, at("2026-03-04 09:00")).state
    moved = act(road.spec, late, CLERK_A, "accept", ActionInput(), at("2026-03-04 10:00"), cal)
    assert moved.state.state == "review"
    assert not moved.state.overdue
    assert moved.state.deadline == at("2026-03-06 17:30")
    assert sweep(road.spec, moved.state, at("2026-03-06 17:00")) is None


def test_final_and_pause_clock_states_are_never_swept(road, cal):
    case = _submitted(road, cal)
    corr = act(
        road.spec, case, CLERK_A, "request_correction", ActionInput("请补充平面图"), MONDAY_9, cal
    ).state
    assert corr.deadline is None
    assert sweep(road.spec, corr, at("2026-06-01 09:00")) is None
    done = act(road.spec, corr, APPLICANT, "withdraw", ActionInput(), MONDAY_9, cal).state
    assert sweep(road.spec, done, at("2026-06-01 09:00")) is None


def test_resubmit_rejects_an_invalid_edit_per_field(road, cal):
    case = _submitted(road, cal)
    corr = act(road.spec, case, CLERK_A, "request_correction", ActionInput("补充"), MONDAY_9, cal)
    with pytest.raises(Refusal) as exc:
        act(
            road.spec,
            corr.state,
            APPLICANT,
            "resubmit",
            ActionInput(data={"area": "0", "purpose": "摆摊"}),
            MONDAY_9,
            cal,
        )
    assert exc.value.code == E.INVALID_INPUT
    assert exc.value.fields == {
        "area": "不能小于 1平方米",
        "purpose": "请从以下选项中选择：施工、临时设施、文化活动、其他",
    }


_EDITABLE = """
format: 1
code: edit_demo
name: 补正演示
category: 测试
applicant: any
body: {level: street, department: 办公室}
time_limit: {working_days: 3}
fields:
  - {key: applicant_name, label: 姓名, type: text}
  - {key: fax, label: 传真, type: text, required: false}
workflow:
  start: submitted
  states:
    submitted: {label: 待受理, role: clerk, level: street}
    correction: {label: 待补正, role: applicant, pause_clock: true}
    done: {label: 办结, final: true, outcome: completed}
  actions:
    accept: {label: 办结, from: submitted, to: done}
    request_correction: {label: 退回补正, from: submitted, to: correction}
    resubmit: {label: 重新提交, from: correction, to: submitted, by: [applicant], edits: ["*"]}
"""


def test_resubmit_can_clear_an_optional_field(cal):
    spec = parse_matter(_EDITABLE, "edit_demo.yaml").spec
    raw = {"applicant_name": "张三", "fax": "0512-1234567"}
    case = submit(spec, APPLICANT, raw, STREET_A, MONDAY_9, cal).state
    corr = act(spec, case, CLERK_A, "request_correction", ActionInput(), MONDAY_9, cal).state
    out = act(spec, corr, APPLICANT, "resubmit", ActionInput(data={"fax": ""}), MONDAY_9, cal)
    assert "fax" not in out.state.data or out.state.data["fax"] in (None, "")


_INPUT_CONDITION = """
format: 1
code: site_check
name: 现场核查演示
category: 测试
applicant: any
body: {level: street, department: 办公室}
time_limit: {working_days: 3}
fields:
  - {key: applicant_name, label: 姓名, type: text}
workflow:
  start: checking
  states:
    checking: {label: 现场核查, role: grid_worker, level: street}
    done: {label: 办结, final: true, outcome: completed}
  actions:
    confirm: {label: 核查无误, from: checking, to: done,
              inputs: [{key: site_ok, label: 现场是否符合要求, type: boolean}],
              when: {field: site_ok, op: "true"}}
"""


def test_condition_on_an_action_input_is_checked_against_the_input(cal):
    spec = parse_matter(_INPUT_CONDITION, "site_check.yaml").spec
    grid = staff(2401, ("grid_worker", STREET_A, "street"))
    case = submit(spec, APPLICANT, {"applicant_name": "张三"}, STREET_A, MONDAY_9, cal).state
    with pytest.raises(Refusal) as exc:
        act(spec, case, grid, "confirm", ActionInput(data={"site_ok": "否"}), MONDAY_9, cal)
    assert exc.value.code == E.CONDITION_FAILED
    out = act(spec, case, grid, "confirm", ActionInput(data={"site_ok": "是"}), MONDAY_9, cal)
    assert out.state.state == "done"
    assert out.events[0].payload["inputs"] == {"site_ok": True}


def test_action_conditioned_on_its_inputs_is_offered(cal):
    spec = parse_matter(_INPUT_CONDITION, "site_check.yaml").spec
    grid = staff(2401, ("grid_worker", STREET_A, "street"))
    case = submit(spec, APPLICANT, {"applicant_name": "张三"}, STREET_A, MONDAY_9, cal).state
    assert allowed_actions(spec, case, grid) == ["confirm"]


def test_a_case_in_an_unknown_state_is_refused_not_crashed(road, cal):
    # A catalog edit removed the state a stored case is in: acting is refused cleanly.
    case = replace(_submitted(road, cal), state="gone")
    with pytest.raises(Refusal) as exc:
        act(road.spec, case, CLERK_A, "accept", ActionInput(), MONDAY_9, cal)
    assert exc.value.code == E.NOT_ALLOWED_IN_STATE
    assert sweep(road.spec, case, at("2026-04-01 09:00")) is None


def _in_review(road, cal) -> CaseState:
    case = _submitted(road, cal)
    return act(road.spec, case, CLERK_A, "accept", ActionInput(), at("2026-03-02 10:00"), cal).state


def test_extension_of_less_than_the_maximum_moves_the_deadline_by_that_much(road, cal):
    review = _in_review(road, cal)
    assert review.deadline == at("2026-03-04 17:30")
    inp = ActionInput("需现场核实", extension=DurationSpec(working_days=2))
    out = act(road.spec, review, REVIEWER_A, "extend", inp, at("2026-03-03 09:00"), cal)
    assert out.state.deadline == at("2026-03-06 17:30")
    assert out.events[0].payload["extension"] == "2个工作日"


def test_extension_in_hours_within_the_maximum_is_granted(road, cal):
    review = _in_review(road, cal)
    inp = ActionInput("需现场核实", extension=DurationSpec(working_hours=4))
    out = act(road.spec, review, REVIEWER_A, "extend", inp, at("2026-03-03 09:00"), cal)
    assert out.state.deadline == at("2026-03-05 12:30")


def test_overdue_notice_in_a_countersign_step_names_who_must_still_sign(road, cal):
    review = _in_review(road, cal)
    cosign = act(
        road.spec, review, REVIEWER_A, "pass_review", ActionInput(), at("2026-03-02 11:00"), cal
    ).state
    urban = staff(2301, ("urban_mgmt", "320507", "district"))
    signed = act(road.spec, cosign, urban, "cosign", ActionInput(), at("2026-03-03 09:00"), cal)
    out = sweep(road.spec, signed.state, at("2026-03-04 09:00"))
    assert out is not None
    assert [(e.key, e.payload.get("role")) for e in out.effects] == [("overdue", "traffic_police")]
