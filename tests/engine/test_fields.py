"""Field types through `validate_fields`: required/optional, whole forms, and no crashes.

(`JSON` is imported by tests/fuzz/test_fields_fuzz.py.)"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.fields_helpers import (
    COMMITMENT_TEXT,
    DRIVERS,
    bad,
    ok,
    one,
    spec,
)
from tongban.engine.chain import canonical
from tongban.engine.fields import validate_fields
from tongban.engine.schema import FieldSpec

# -- required, optional, the whole form --------------------------------------------------------


@pytest.mark.parametrize("blank", [None, "", "   ", [], {}])
def test_blank_required_and_optional(blank):
    required, optional = spec("text", key="a"), spec("text", key="b", required=False)
    clean, errors = validate_fields([required, optional], {"a": blank, "b": blank})
    assert clean == {}
    assert errors == {"a": "必填"}


def test_missing_keys_count_as_blank_and_unknown_keys_are_dropped():
    fields = [spec("text", key="a"), spec("number", key="b", required=False)]
    clean, errors = validate_fields(fields, {"b": "7", "is_admin": True})
    assert clean == {"b": 7}
    assert errors == {"a": "必填"}


def test_an_optional_field_with_a_bad_value_is_still_an_error():
    assert bad(spec("phone", required=False), "12345") == "手机号码应为11位数字，以1开头"


def test_every_field_is_reported_not_just_the_first():
    fields = [spec("phone", key="p"), spec("date", key="d"), spec("text", key="t")]
    clean, errors = validate_fields(fields, {"p": "1", "d": "x", "t": "好"})
    assert clean == {"t": "好"}
    assert set(errors) == {"p", "d"}


@pytest.mark.parametrize("raw", [None, [], "a=1", 3])
def test_a_form_that_is_not_a_mapping(raw):
    assert validate_fields([spec("text")], raw) == ({}, {"__all__": "提交的内容格式不对"})


# -- never raises, for any JSON-like input and every field type --------------------------------


SPECS = [
    spec("text"),
    spec("textarea", min_length=2),
    spec("address", max_length=30),
    spec("number", min=0, max=100, integer=True),
    spec("number"),
    spec("date"),
    spec("datetime"),
    spec("choice", options=("施工", "其他")),
    spec("multichoice", options=("消防", "环保")),
    spec("phone"),
    spec("id_card"),
    spec("uscc"),
    spec("plate"),
    spec("geo"),
    spec("commitment", text=COMMITMENT_TEXT),
    spec("file", required=False),
    spec("boolean"),
    DRIVERS,
]


def test_the_fuzzed_specs_cover_every_field_type():
    assert {f.type for f in SPECS} == set(FieldSpec.model_fields["type"].annotation.__args__)


PLAUSIBLE = st.sampled_from([
    "是", "否", "施工", "消防", "2026-03-01", "2026年3月1日", "2026-03-01 08:30",
    "138 1234 5678", "0512-65221234", "11010519491231002X", "91350100M000100Y43", "苏E12345",
    "31.3,120.6", "ab" * 32, "accepted", "lat", "lng", "name", "id_no", "1e400", "nan", "-0",
    "0001-01-01T00:00", "9999-12-31T23:59+14:00", "\x00", " ", "１２３", "١٢٣",
])  # fmt: skip


def _huge(digits: int) -> int:
    """Integers beyond float range and Python's int-to-str limit (kept out of reprs)."""
    return -(10**digits) if digits > 4300 else 10**digits + 1


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([400, 5000, 53]).map(_huge)
    | st.floats()
    | st.text(max_size=30)
    | PLAUSIBLE
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=8) | PLAUSIBLE, children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(f=st.sampled_from(SPECS), raw=JSON)
def test_no_input_crashes_a_field_and_clean_values_are_storable(f, raw):
    value, message = one(f, raw)
    assert (value is None) or (message is None)
    if message is not None:
        assert isinstance(message, str) and message
    elif value is None:
        assert not f.required or f.type == "boolean"
    # Clean values go into the hash chain: strict JSON, no NaN, no Python objects.
    json.dumps(value, allow_nan=False)
    canonical({"v": value})


@settings(max_examples=200, deadline=None)
@given(f=st.sampled_from(SPECS), raw=JSON)
def test_a_clean_value_validates_to_itself(f, raw):
    """What was stored can be shown in the form and submitted again unchanged (补正)."""
    value, message = one(f, raw)
    if value is None:
        return
    assert one(f, value) == (value, None)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.fixed_dictionaries({}, optional={f.key + str(i): JSON for i, f in enumerate(SPECS)}))
def test_a_whole_form_of_junk_gets_one_answer_per_field(raw):
    fields = [f.model_copy(update={"key": f.key + str(i)}) for i, f in enumerate(SPECS)]
    clean, errors = validate_fields(fields, raw)
    assert not set(clean) & set(errors)
    for f in fields:
        if f.required and f.type != "boolean":
            assert f.key in clean or f.key in errors, f.key
    json.dumps(clean, allow_nan=False)


def test_unanswered_optional_boolean_stores_nothing():
    assert ok(spec("boolean", required=False), None) is None
    assert ok(spec("boolean", required=False), "") is None
