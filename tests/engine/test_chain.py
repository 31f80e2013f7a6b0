"""The hash chain: canonical bodies, links, and `verify` naming the first broken event."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.engine.conftest import (
    ROAD_APPLICATION,
    ROAD_MATERIALS,
    STREET_A,
    at,
    chain_records,
    event_record,
    staff,
)
from tongban.engine.chain import GENESIS, StoredEvent, canonical, link, verify
from tongban.engine.workflow import ActionInput, Actor, act, submit

APPLICANT = Actor(1001)
CLERK = staff(2001, ("clerk", STREET_A, "street"))
REVIEWER = staff(2101, ("reviewer", STREET_A, "street"))
URBAN = staff(2301, ("urban_mgmt", "320507", "district"))
POLICE = staff(2302, ("traffic_police", "320507", "district"))
APPROVER = staff(2201, ("approver", "320507", "district"))


@pytest.fixture(scope="module")
def history(road, cal) -> list[dict]:
    """The event records of one road-occupation case from submission to permit."""
    spec = road.spec
    now = at("2026-03-02 09:00")
    out = submit(spec, APPLICANT, ROAD_APPLICATION, STREET_A, now, cal, materials=ROAD_MATERIALS)
    records = [event_record(e, now) for e in out.events]
    case = out.state
    steps = [
        (CLERK, "accept", ActionInput("予以受理")),
        (REVIEWER, "extend", ActionInput("需现场核实")),
        (REVIEWER, "pass_review", ActionInput()),
        (URBAN, "cosign", ActionInput("同意")),
        (POLICE, "cosign", ActionInput("同意")),
        (APPROVER, "approve", ActionInput("准予许可")),
    ]
    for actor, name, inp in steps:
        now += timedelta(hours=1)
        out = act(spec, case, actor, name, inp, now, cal)
        records.extend(event_record(e, now) for e in out.events)
        case = out.state
    assert case.state == "approved"
    return records


@pytest.fixture
def chain(history) -> list[StoredEvent]:
    return chain_records(history)


# -- canonical and link ------------------------------------------------------------------------


def test_canonical_is_independent_of_key_order_and_keeps_chinese():
    a = canonical({"b": 1, "a": {"y": "审核", "x": [1, 2]}})
    b = canonical({"a": {"x": [1, 2], "y": "审核"}, "b": 1})
    assert a == b == '{"a":{"x":[1,2],"y":"审核"},"b":1}'


def test_canonical_writes_one_instant_one_way():
    beijing = datetime(2026, 3, 2, 9, 0, tzinfo=at("2026-03-02 09:00").tzinfo)
    utc = beijing.astimezone(UTC)
    assert canonical({"t": beijing}) == canonical({"t": utc})
    assert canonical({"t": utc}) == '{"t":"2026-03-02T01:00:00.000000+00:00"}'
    assert canonical({"d": date(2026, 3, 2)}) == '{"d":"2026-03-02"}'
    assert canonical({"s": {"b", "a"}, "t": ("x", 1)}) == '{"s":["a","b"],"t":["x",1]}'


def test_canonical_refuses_what_it_cannot_write():
    with pytest.raises(TypeError, match="cannot serialise"):
        canonical({"x": object()})


def test_link_depends_on_the_previous_hash_and_the_body():
    h = link(GENESIS, '{"a":1}')
    assert len(h) == 64 and h != link(GENESIS, '{"a":2}')
    assert h != link("f" * 64, '{"a":1}')
    assert h == link(GENESIS, '{"a":1}')


def test_every_body_is_canonical_json_of_its_record(chain, history):
    assert len(chain) == len(history) == 7
    for ev, record in zip(chain, history, strict=True):
        assert json.loads(ev.body) == json.loads(canonical({**record, "seq": ev.seq}))
    kinds = [json.loads(ev.body)["kind"] for ev in chain]
    assert kinds == ["submitted", "moved", "extended", "moved", "signed", "moved", "moved"]
    # The extension's deadlines (datetimes) are written as UTC instants.
    extended = json.loads(chain[2].body)["payload"]
    assert extended["new_deadline"] == "2026-03-09T09:30:00.000000+00:00"


# -- an intact chain ---------------------------------------------------------------------------


def test_an_intact_chain_verifies(chain):
    assert verify(chain) is None
    assert verify([]) is None
    assert verify(chain[:1]) is None
    assert verify(iter(chain)) is None  # a streamed query works too


# -- tampering ---------------------------------------------------------------------------------


def test_edited_body_is_caught_at_that_event(chain):
    ev = chain[3]
    body = ev.body.replace('"actor":2101', '"actor":2102')
    assert body != ev.body
    chain[3] = replace(ev, body=body)
    broken = verify(chain)
    assert (broken.seq, broken.reason) == (4, "事件内容与哈希不符（事件被改动）")


def test_edited_body_with_its_hash_recomputed_is_caught_at_the_next_event(chain):
    ev = chain[2]
    body = ev.body.replace("需现场核实", "正常延期")
    chain[2] = replace(ev, body=body, hash=link(ev.prev_hash, body))
    broken = verify(chain)
    assert (broken.seq, broken.reason) == (3 + 1, "前一事件的哈希不匹配（之前的事件被改动或删除）")


def test_edited_column_is_caught_even_though_the_body_is_intact(chain):
    ev = chain[4]  # the first countersignature
    chain[4] = replace(ev, columns={**ev.columns, "kind": "moved"})
    broken = verify(chain)
    assert (broken.seq, broken.reason) == (5, "字段 kind 与已签名的事件内容不一致")


@pytest.mark.parametrize("column", ["case", "kind", "action", "from", "to", "actor", "at"])
def test_each_column_is_compared_with_the_body(chain, column):
    ev = chain[1]
    value = ev.columns[column]
    forged = value + 1 if isinstance(value, int) else f"{value}x"
    chain[1] = replace(ev, columns={**ev.columns, column: forged})
    assert verify(chain).seq == 2
    assert verify(chain).reason == f"字段 {column} 与已签名的事件内容不一致"


def test_deleted_event_in_the_middle(chain):
    del chain[4]
    broken = verify(chain)
    assert (broken.seq, broken.reason) == (6, "序号不连续：应为 5，实为 6（有事件被删除或插入）")


def test_deleted_first_event(chain):
    broken = verify(chain[1:])
    assert broken.seq == 2
    assert "应为 1，实为 2" in broken.reason


def test_reordered_events_keeping_their_numbers(chain):
    chain[2], chain[3] = chain[3], chain[2]
    broken = verify(chain)
    assert (broken.seq, broken.reason) == (4, "序号不连续：应为 3，实为 4（有事件被删除或插入）")


def test_reordered_events_renumbered_to_look_consecutive(chain):
    a, b = chain[2], chain[3]
    chain[2] = replace(b, seq=3, columns={**b.columns, "seq": 3})
    chain[3] = replace(a, seq=4, columns={**a.columns, "seq": 4})
    broken = verify(chain)
    assert (broken.seq, broken.reason) == (3, "前一事件的哈希不匹配（之前的事件被改动或删除）")


def test_inserted_event_with_a_valid_link_breaks_the_one_after_it(chain, history):
    forged_record = {**history[1], "comment": "补录", "seq": 3}
    body = canonical(forged_record)
    forged = StoredEvent(3, body, chain[1].hash, link(chain[1].hash, body), {"seq": 3})
    later = [
        replace(ev, seq=ev.seq + 1, columns={**ev.columns, "seq": ev.seq + 1}) for ev in chain[2:]
    ]
    broken = verify([*chain[:2], forged, *later])
    assert (broken.seq, broken.reason) == (4, "前一事件的哈希不匹配（之前的事件被改动或删除）")


def test_inserted_event_without_renumbering(chain):
    extra = replace(chain[1])
    broken = verify([*chain[:2], extra, *chain[2:]])
    assert broken.seq == 2
    assert "应为 3，实为 2" in broken.reason


def test_first_event_must_start_from_genesis(chain):
    ev = chain[0]
    prev = "1" * 64
    chain[0] = replace(ev, prev_hash=prev, hash=link(prev, ev.body))
    broken = verify(chain)
    assert (broken.seq, broken.reason) == (1, "前一事件的哈希不匹配（之前的事件被改动或删除）")


def test_body_that_is_not_json_is_named_as_such():
    body = "not json"
    ev = StoredEvent(1, body, GENESIS, link(GENESIS, body), {})
    broken = verify([ev])
    assert (broken.seq, broken.reason) == (1, "事件内容不是合法的 JSON")


def test_only_the_first_break_is_reported(chain):
    chain[1] = replace(chain[1], body=chain[1].body + " ")
    chain[5] = replace(chain[5], columns={**chain[5].columns, "kind": "x"})
    assert verify(chain).seq == 2
