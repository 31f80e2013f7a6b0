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
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.conftest import (
    GOLDEN,
    ROAD_YAML,
    SH,
    STREET_A,
    at,
    load_matters,
    staff,
)
from tongban.engine.errors import Refusal
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
