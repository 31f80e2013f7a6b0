"""Properties of the workflow under random use, and of the hash chain over what it records.

Random sequences of actions by random people (the applicant, a stranger, staff of the right
and wrong streets, districts and roles) with random comments, targets, assignees,
extensions and edits, against the demo road-occupation matter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.conftest import (
    DISTRICT,
    ROAD_APPLICATION,
    ROAD_MATERIALS,
    STREET_A,
    STREET_B,
    at,
    chain_records,
    event_record,
    staff,
)
from tongban.engine import errors as E
from tongban.engine.chain import canonical, verify
from tongban.engine.errors import Refusal
from tongban.engine.schema import APPLICANT, DurationSpec
from tongban.engine.workflow import (
    ActionInput,
    Actor,
    CaseState,
    act,
    allowed_actions,
    submit,
    sweep,
)

COMMUNITY_A = STREET_A + "/320507104001"
ACTORS: list[Actor] = [
    Actor(1001, "applicant"),
    Actor(1002, "stranger"),
    staff(2001, ("clerk", STREET_A, "street")),
    staff(2002, ("clerk", STREET_B, "street")),
    staff(2003, ("clerk", DISTRICT, "district")),  # right area, wrong level
    staff(2004, ("clerk", COMMUNITY_A, "community")),  # below the case's org
    staff(2101, ("reviewer", STREET_A, "street")),
    staff(2102, ("reviewer", STREET_A, "street")),
    staff(2103, ("reviewer", STREET_B, "street")),
    staff(2104, ("clerk", STREET_A, "street"), ("reviewer", STREET_A, "street")),
    staff(2201, ("approver", DISTRICT, "district")),
    staff(2202, ("approver", "320508", "district")),  # another district
    staff(2203, ("approver", DISTRICT, "district")),
    staff(2301, ("urban_mgmt", DISTRICT, "district")),
    staff(2302, ("traffic_police", DISTRICT, "district")),
    staff(2303, ("urban_mgmt", DISTRICT, "district"), ("traffic_police", DISTRICT, "district")),
    staff(2304, ("traffic_police", "320508", "district")),
    staff(2501, ("head", DISTRICT, "district")),
    staff(1001 + 0, ("reviewer", STREET_B, "street")),  # the applicant, staff elsewhere
]
APPLICANT_ID = 1001
REFUSAL_CODES = {v for k, v in vars(E).items() if k.isupper() and isinstance(v, str)}

DATA_EDITS = [{}, {"area": "80"}, {"area": "0"}, {"location": "  "}, {"purpose": "其他"}]
NEW_PLAN = {
    "site_plan": [{"sha256": "3" * 64, "name": "新平面图.pdf", "size": 1000, "type": "pdf"}]
}
EXTENSIONS = [
    None,
    DurationSpec(working_days=1),
    DurationSpec(working_days=3),
    DurationSpec(working_days=5),
    DurationSpec(working_hours=2),
]


def within(case_path: str, org_path: str) -> bool:
    return case_path == org_path or case_path.startswith(org_path + "/")


def entitled(spec, case: CaseState, actor: Actor, name: str) -> bool:
    """Independent statement of who may act: the applicant, or staff holding the role here."""
    action = spec.workflow.actions[name]
    st_ = spec.state(case.state)
    roles = action.by or ((st_.sign.roles if st_.sign else ()) or ((st_.role,) if st_.role else ()))
    if APPLICANT in roles and actor.user_id == case.applicant_id:
        return True
    holds = any(
        m.role in roles
        and m.role != APPLICANT
        and within(case.org_path, m.org_path)
        and (st_.level is None or m.level == st_.level)
        for m in actor.memberships
    )
    return holds and case.handler_id in (None, actor.user_id)


@st.composite
def next_step(draw, spec, case: CaseState) -> tuple:
    """One step: a sweep, or an action by someone. Mostly an action someone is offered (so
    cases get deep into the workflow), sometimes anything at all by anyone."""
    minutes = draw(st.integers(0, 4000), label="minutes")
    if draw(st.integers(0, 9), label="sweep?") == 0:
        return ("sweep", minutes)
    guided = draw(st.integers(0, 3), label="guided?") > 0
    offered = []
    if guided:
        offered = [
            (i, name)
            for i, actor in enumerate(ACTORS)
            for name in allowed_actions(spec, case, actor)
        ]
        if draw(st.integers(0, 4), label="may end?") > 0:
            # Ending the case (withdraw, refuse) is offered early and often; hold it back so
            # most runs get to the countersign, the approval and the certificate.
            finals = {k for k, v in spec.workflow.states.items() if v.final}
            going_on = [(i, n) for i, n in offered if spec.workflow.actions[n].to not in finals]
            offered = going_on or offered
    if offered:
        who, name = draw(st.sampled_from(offered), label="offered")
    else:
        who, name = draw(anyone_anything(spec), label="anyone, anything")
    return ("act", minutes, who, name, *draw(INPUTS, label="inputs"))


ACTION_NAMES: dict[int, list[str]] = {}


def anyone_anything(spec):
    names = ACTION_NAMES.setdefault(id(spec), [*spec.workflow.actions, "bogus"])
    return st.tuples(st.sampled_from(range(len(ACTORS))), st.sampled_from(names))


INPUTS = st.tuples(
    st.sampled_from(["", "   ", "同意", "请补充材料"]),  # comment
    st.sampled_from([None, "review", "submitted", "cosign", "correction", "approved"]),  # target
    st.sampled_from([None, *range(len(ACTORS))]),  # assignee
    st.sampled_from(range(len(EXTENSIONS))),
    st.sampled_from(range(len(DATA_EDITS))),
    st.booleans(),  # replace the site plan
)


def snapshot(case: CaseState) -> tuple:
    """A deep, cheap fingerprint: the engine must never mutate the state it is given."""
    return replace(case, data={}, materials={}), canonical(case.data), canonical(case.materials)


def run(spec, cal, data, max_steps: int = 25):
    """Run random steps, checking the per-step properties; return the case and its records."""
    now = at("2026-03-02 09:00")
    out = submit(spec, ACTORS[0], ROAD_APPLICATION, STREET_A, now, cal, materials=ROAD_MATERIALS)
    case = out.state
    records = [event_record(e, now) for e in out.events]
    states = spec.workflow.states
    for _ in range(data.draw(st.integers(1, max_steps), label="steps")):
        raw = data.draw(next_step(spec, case))
        now += timedelta(minutes=raw[1])
        before = snapshot(case)
        if raw[0] == "sweep":
            swept = sweep(spec, case, now)
            assert snapshot(case) == before
            if swept is None:
                continue
            assert not states[case.state].final
            assert swept.state == replace(case, overdue=True)
            assert [e.kind for e in swept.events] == ["overdue"]
            records.extend(event_record(e, now) for e in swept.events)
            case = swept.state
            continue
        _, _, who, name, comment, target, assignee, ext, edit, new_plan = raw
        actor = ACTORS[who]
        offered = allowed_actions(spec, case, actor)
        inp = ActionInput(
            comment=comment,
            data=DATA_EDITS[edit],
            target=target,
            assignee=ACTORS[assignee] if assignee is not None else None,
            extension=EXTENSIONS[ext],
            materials=NEW_PLAN if new_plan else None,
        )
        try:
            result = act(spec, case, actor, name, inp, now, cal)
        except Refusal as refusal:
            # Refusals change nothing (not even the input, which is compared deeply).
            assert snapshot(case) == before
            assert refusal.code in REFUSAL_CODES
            if name in offered:
                # What was offered is never refused for who you are.
                assert refusal.code not in {
                    E.WRONG_ROLE,
                    E.OUTSIDE_JURISDICTION,
                    E.NOT_HANDLER,
                    E.UNKNOWN_ACTION,
                    E.ALREADY_SIGNED,
                }, (name, refusal)
            continue
        assert snapshot(case) == before  # the engine never mutates the state it was given
        assert not states[case.state].final, f"left final state {case.state} by {name}"
        assert name in offered, (name, offered)
        assert entitled(spec, case, actor, name), (name, actor)
        new = result.state
        assert new.state in states
        assert new.applicant_id == APPLICANT_ID and new.org_path == STREET_A
        for ev in result.events:
            assert ev.actor_id == actor.user_id and ev.action == name
            assert ev.from_state == case.state and ev.to_state == new.state
        kind = spec.workflow.actions[name].kind
        if kind in {"transfer", "extend"}:
            assert new.state == case.state
        if kind == "transfer":
            receiver = inp.assignee
            assert new.handler_id == receiver.user_id != actor.user_id
            assert entitled(spec, replace(case, handler_id=None), receiver, name)
        if kind == "extend":
            assert new.deadline > case.deadline > now
        if new.state != case.state:
            assert new.handler_id is None and new.signatures == () and not new.overdue
            assert new.state in new.visited
        records.extend(event_record(e, now) for e in result.events)
        case = new
    return case, records


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_use_keeps_the_workflow_sound_and_the_chain_verifiable(road, cal, data):
    spec = road.spec
    _, records = run(spec, cal, data)

    stored = chain_records(records)
    assert verify(stored) is None

    # Flip one byte of one stored body: verify names exactly that event.
    i = data.draw(st.integers(0, len(stored) - 1), label="event")
    raw = bytearray(stored[i].body.encode())
    pos = data.draw(st.integers(0, len(raw) - 1), label="byte")
    raw[pos] ^= data.draw(st.integers(1, 255), label="mask")
    body = raw.decode("utf-8", errors="replace")  # what a text column would hold
    assert body != stored[i].body
    tampered = [*stored[:i], replace(stored[i], body=body), *stored[i + 1 :]]
    broken = verify(tampered)
    assert broken is not None and broken.seq == stored[i].seq


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_finished_case_stays_finished(road, cal, data):
    """Drive a case to a final state by the happy path, then throw random actions at it."""
    spec = road.spec
    now = at("2026-03-02 09:00")
    case = submit(
        spec, ACTORS[0], ROAD_APPLICATION, STREET_A, now, cal, materials=ROAD_MATERIALS
    ).state
    ending = data.draw(st.sampled_from(["withdraw", "refuse", "approve"]))
    path = {
        "withdraw": [(1001, "withdraw")],
        "refuse": [(2001, "refuse")],
        "approve": [(2001, "accept"), (2101, "pass_review"), (2301, "cosign"), (2302, "cosign"),
                    (2201, "approve")],
    }[ending]  # fmt: skip
    by_id = {a.user_id: a for a in reversed(ACTORS)}  # 1001 is the plain applicant
    for who, name in path:
        case = act(spec, case, by_id[who], name, ActionInput("意见"), now, cal).state
    assert spec.state(case.state).final
    for _ in range(10):
        actor = data.draw(st.sampled_from(ACTORS))
        name = data.draw(st.sampled_from(list(spec.workflow.actions)))
        assert allowed_actions(spec, case, actor) == []
        try:
            act(spec, case, actor, name, ActionInput("意见", target="review"), now, cal)
        except Refusal as refusal:
            assert refusal.code == E.NOT_ALLOWED_IN_STATE
        else:
            raise AssertionError(f"{name} left the final state {case.state}")
        now += timedelta(days=data.draw(st.integers(0, 400)))
        assert sweep(spec, case, now) is None
