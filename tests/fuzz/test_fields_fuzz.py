"""Every field of every real catalog matter (and every action's inputs) under any JSON:
a clean value or a Chinese message per field, never an exception.

tests/engine/test_fields.py fuzzes one synthetic spec per field type; this runs the
catalog's own fields, with their real options, bounds, lengths and table columns, the way
a submitted form or an API body reaches them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.engine.test_fields import JSON
from tongban.engine.fields import validate_fields
from tongban.engine.loader import load_catalog
from tongban.engine.schema import MatterSpec
from tongban.engine.validators import ValidationError, gcj02_to_wgs84, in_china, wgs84_to_gcj02

ROOT = Path(__file__).resolve().parents[2] / "catalog"
CATALOG = load_catalog([ROOT])
FORMS = [
    (f"{m.spec.code}:{where}", fields)
    for m in CATALOG.matters
    if isinstance(m.spec, MatterSpec)
    for where, fields in [
        ("fields", m.spec.fields),
        *((f"actions.{k}", a.inputs) for k, a in m.spec.workflow.actions.items() if a.inputs),
    ]
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_catalog_loads():
    assert CATALOG.ok, CATALOG.problems
    assert len(FORMS) > 20


@st.composite
def form(draw):
    """One form of the catalog and a body for it: its own keys with junk values, some
    missing, plus keys it does not have."""
    name, fields = draw(st.sampled_from(FORMS), label="form")
    keys = [f.key for f in fields]
    body = draw(st.fixed_dictionaries({}, optional=dict.fromkeys(keys, JSON)), label="body")
    body.update(draw(st.dictionaries(st.text(max_size=6), JSON, max_size=2), label="extra"))
    return name, fields, body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=form())
def test_every_catalog_form_answers_any_body(case):
    name, fields, body = case
    clean, errors = validate_fields(fields, body)
    assert not set(clean) & set(errors), name
    for key, message in errors.items():
        assert isinstance(message, str) and CJK.search(message), (name, key, message)
    json.dumps(clean, allow_nan=False)  # storable: strict JSON


FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@given(lat=FLOATS, lng=FLOATS)
@example(lat=float("nan"), lng=120.0)
@example(lat=31.3, lng=float("inf"))
def test_map_conversions_never_raise(lat, lng):
    """Registry and request coordinates go through these before any check of range."""
    assert isinstance(in_china(lat, lng), bool)
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        try:
            out = convert(lat, lng)
        except ValidationError as exc:
            assert CJK.search(exc.message)
        else:
            assert len(out) == 2
