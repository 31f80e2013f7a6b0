"""The workflow interpreter, driven by golden scripts and a few targeted cases.

Golden tests: `golden/<name>.script.yaml` is a list of steps (who, what, when, with which
inputs); running it through `submit` / `act` / `sweep` gives a trace (every event with its
from/to/payload, every effect, every refusal code and message, and the case's state,
deadline and promised due date after each step) that must equal `golden/<name>.trace.yaml`.

    TONGBAN_REGEN_GOLDEN=1 .venv/bin/pytest tests/engine/test_workflow.py -p no:django

rewrites the traces (those tests then report "skipped"); read the diff before committing.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.conftest import (
    GOLDEN,
    ROAD_APPLICATION,
    ROAD_MATERIALS,
    ROAD_YAML,
    SH,
    STREET_A,
    STREET_B,
    at,
    load_matters,
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

REGEN = os.environ.get("TONGBAN_REGEN_GOLDEN") == "1"
SCRIPTS = sorted(GOLDEN.glob("*.script.yaml"))


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def matters():
    loaded = load_matters(ROAD_YAML, GOLDEN / "market_stall.yaml")
    return {code: m.spec for code, m in loaded.items()}


@pytest.fixture(scope="module")
def cast() -> dict[str, Actor]:
    actors = {}
    for name, row in _read(GOLDEN / "cast.yaml").items():
        actors[name] = staff(row["id"], *map(tuple, row.get("memberships", [])), name=name)
    return actors


# -- turning engine output into plain, readable YAML ---------------------------------------


def _when(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    local = dt.astimezone(SH)
    return local.strftime(
        "%Y-%m-%d %H:%M" + (":%S.%f" if local.second or local.microsecond else "")
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Tracer:
    def __init__(self, cast: dict[str, Actor]):
        self.names = {a.user_id: n for n, a in cast.items()}
        self.names[0] = "system"

    def who(self, user_id: int | None) -> str | int | None:
        return self.names.get(user_id, user_id)

    def payload(self, payload: Mapping[str, Any]) -> dict:
        out = _plain(payload)
        if "assignee" in out:
            out["assignee"] = self.who(out["assignee"])
        if "user_id" in out:
            out["user_id"] = self.who(out["user_id"])
        if "signatures" in out:
            out["signatures"] = [[role, self.who(uid)] for role, uid in out["signatures"]]
        return out

    def case(self, c: CaseState) -> dict:
        snap: dict[str, Any] = {
            "state": c.state,
            "deadline": _when(c.deadline),
            "due_at": _when(c.due_at),
        }
        if c.handler_id is not None:
            snap["handler"] = self.who(c.handler_id)
        if c.signatures:
            snap["signatures"] = [[role, self.who(uid)] for role, uid in c.signatures]
        if c.extensions:
            snap["extensions"] = c.extensions
        if c.overdue:
            snap["overdue"] = True
        return snap

    def outcome(self, out) -> dict:
        return {
            "events": [
                {
                    "kind": e.kind,
                    "from": e.from_state,
                    "to": e.to_state,
                    "by": self.who(e.actor_id),
                    **({"action": e.action} if e.action else {}),
                    **({"comment": e.comment} if e.comment else {}),
                    **({"payload": self.payload(e.payload)} if e.payload else {}),
                }
                for e in out.events
            ],
            "effects": [
                {"kind": f.kind, "key": f.key, **self.payload(f.payload)} for f in out.effects
            ],
            "case": self.case(out.state),
        }


# -- running a script ----------------------------------------------------------------------


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """`base` with the script's changes applied; a change to null removes the key."""
    out = dict(base)
    for key, value in (changes or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def run_script(script: dict, matters, cast, cal) -> list[dict]:
    spec = matters[script["matter"]]
    org = script.get("org", STREET_A)
    applications = _read(GOLDEN / "applications.yaml")
    tracer = Tracer(cast)
    case: CaseState | None = None
    trace = []
    for i, step in enumerate(script["steps"], 1):
        now = at(step["at"])
        entry: dict[str, Any] = {"step": i, "at": _when(now)}
        if "note" in step:
            entry["note"] = step["note"]
        try:
            if step.get("sweep"):
                entry["do"] = "sweep"
                out = sweep(spec, case, now)
                if out is None:
                    entry["result"] = "nothing to do"
                    trace.append(entry)
                    continue
            elif "submit" in step:
                actor = cast[step["actor"]]
                entry.update(actor=step["actor"], do="submit")
                application = applications[step["submit"]]
                raw = _merged(application["data"], step.get("data"))
                files = _merged(application.get("materials") or {}, step.get("materials"))
                behalf = step.get("on_behalf_of")
                out = submit(
                    spec,
                    actor,
                    raw,
                    org,
                    now,
                    cal,
                    applicant_id=cast[behalf].user_id if behalf else None,
                    materials=files,
                )
            else:
                actor = cast[step["actor"]]
                name = step["action"]
                entry.update(actor=step["actor"], do=name)
                before = allowed_actions(spec, case, actor) if case is not None else []
                ext = step.get("extension")
                inp = ActionInput(
                    comment=step.get("comment", ""),
                    data=step.get("data") or {},
                    target=step.get("target"),
                    assignee=cast[step["assignee"]] if "assignee" in step else None,
                    extension=DurationSpec(**ext) if ext else None,
                    materials=step.get("materials"),
                )
                out = act(spec, case, actor, name, inp, now, cal)
                # Invariant beside the golden comparison: what was done had been offered.
                assert name in before, f"step {i}: {name} succeeded but was not allowed {before}"
        except Refusal as refusal:
            entry["refused"] = {"code": refusal.code, "message": refusal.message}
            if refusal.fields:
                entry["refused"]["fields"] = dict(refusal.fields)
            trace.append(entry)
            continue
        assert out.state.state in spec.workflow.states
        entry.update(tracer.outcome(out))
        case = out.state
        trace.append(entry)
    return trace


def _dump(trace: list[dict]) -> str:
    return yaml.dump(trace, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)


@pytest.mark.parametrize("script_path", SCRIPTS, ids=lambda p: p.name.split(".")[0])
def test_golden(script_path: Path, matters, cast, cal):
    script = _read(script_path)
    trace = run_script(script, matters, cast, cal)
    trace_path = script_path.with_name(script_path.name.replace(".script.", ".trace."))
    header = f"# {script_path.name}: {script['title']}\n# Generated; review before committing.\n"
    if REGEN:
        trace_path.write_text(header + _dump(trace), encoding="utf-8")
        pytest.skip(f"regenerated {trace_path.name}")
    assert trace_path.exists(), f"no trace for {script_path.name}; run with TONGBAN_REGEN_GOLDEN=1"
    expected = _read(trace_path)
    if trace != expected:
        diff = "\n".join(
            difflib.unified_diff(
                _dump(expected).splitlines(),
                _dump(trace).splitlines(),
                "expected",
                "actual",
                lineterm="",
            )
        )
        pytest.fail(f"{script_path.name} no longer produces its trace:\n{diff}")


def test_every_trace_has_a_script_and_the_scenarios_are_all_there():
    traces = {p.name.split(".")[0] for p in GOLDEN.glob("*.trace.yaml")}
    scripts = {p.name.split(".")[0] for p in SCRIPTS}
    assert traces == scripts
    assert {
        "happy_path",
        "correction_resubmit",
        "withdraw_before_acceptance",
        "withdraw_after_acceptance",
        "send_back",
        "send_back_never_visited",
        "transfer",
        "extension",
        "extension_after_deadline",
        "wrong_role",
        "outside_jurisdiction",
        "comment_required",
        "invalid_submit",
        "sweep_overdue",
        "or_sign",
    } <= scripts


def test_golden_runner_notices_a_changed_trace(matters, cast, cal):
    """The comparison is not vacuous: a one-word change in the script changes the trace."""
    script = _read(GOLDEN / "happy_path.script.yaml")
    expected = _read(GOLDEN / "happy_path.trace.yaml")
    script["steps"][1]["at"] = "2026-03-02 11:00"
    assert run_script(script, matters, cast, cal) != expected


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
