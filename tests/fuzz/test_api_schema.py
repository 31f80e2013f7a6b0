"""Schemathesis against /api/openapi.json, in process (WSGI, no server), with the demo data
and an API token: no 5xx, and every response has a documented status, content type and
shape.

Each operation is one test per caller (a resident and a window clerk), bounded and
deterministic (a fixed number of examples, derandomized) so it runs in CI on SQLite and
PostgreSQL. Path parameters are sometimes swapped for ids and names that exist (the demo
cases, the catalog's matters and actions) so the fuzzer gets past the 404s, and a request
body sometimes names a real matter so the field validators behind the API are fuzzed too.

schemathesis' own pytest wiring (`schemathesis.pytest.from_fixture`) does not run under
pytest 9, so the Hypothesis tests are built here from `operation.as_strategy()`.
"""

from __future__ import annotations

import contextlib
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    ("GET", "/api/matters"),
    ("GET", "/api/matters/{code}"),
    ("POST", "/api/cases"),
    ("GET", "/api/cases/{case_id}"),
    ("POST", "/api/cases/{case_id}/actions/{action}"),
    ("GET", "/api/cases/{case_id}/events"),
    ("GET", "/api/worklist"),
    ("POST", "/api/uploads"),
    ("POST", "/api/requests"),
    ("POST", "/api/certificates/{number}/revoke"),
]
CALLERS = ["zhangsan", "clerk_yangchenghu"]
# Per operation and caller: 40 (~720 requests) in the suite; `make fuzz` asks for more.
EXAMPLES = int(os.environ.get("TONGBAN_FUZZ_EXAMPLES", "40"))


class Fuzz:
    def __init__(self, schema, tokens: dict[str, str], known: dict[str, list]):
        self.schema = schema
        self.tokens = tokens
        self.known = known


@contextlib.contextmanager
def _connection_kept():
    """Django closes the connection when a request ends (close_old_connections), which
    would end the test's transaction; its own test client unhooks it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def fuzz(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo world with its demo cases and a token per caller, built once in a
    transaction rolled back when the module ends (each test runs in a savepoint)."""
    from django.contrib.auth import get_user_model

    from tests.conftest import ensure_world
    from tongban.services import catalog, demo
    from tongban.services.auth import create_token
    from tongban.store.models import Case, Certificate

    media = tmp_path_factory.mktemp("fuzz-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        _connection_kept(),
        transaction.atomic(),
    ):
        ensure_world()
        demo.build(with_cases=True)
        users = get_user_model().objects
        tokens = {name: create_token(users.get(username=name), name="fuzz") for name in CALLERS}
        specs = [catalog.spec_of(v) for v in catalog.current_versions()]
        known = {
            "case_id": list(Case.objects.order_by("pk").values_list("pk", flat=True)[:50]),
            "code": sorted(s.code for s in specs),
            "action": sorted({a for s in specs for a in s.workflow.actions}),
            "number": list(
                Certificate.objects.order_by("pk").values_list("number", flat=True)[:20]
            ),
        }
        config = schemathesis.Config.from_dict({"seed": 20261201})
        schema = schemathesis.openapi.from_wsgi(
            "/api/openapi.json", get_wsgi_application(), config=config
        )
        yield Fuzz(schema, tokens, known)
        transaction.set_rollback(True)


def test_the_operation_list_is_complete(fuzz):
    """A new API operation must be fuzzed too: add it to OPERATIONS."""
    found = sorted((r.ok().method.upper(), r.ok().path) for r in fuzz.schema.get_all_operations())
    assert found == sorted(OPERATIONS)


def _steer(fuzz: Fuzz, case, data) -> None:
    """Now and then, aim the generated request at something that exists."""
    for name in case.path_parameters:
        if name in fuzz.known and data.draw(st.booleans(), label=f"known {name}?"):
            case.path_parameters[name] = data.draw(st.sampled_from(fuzz.known[name]), label=name)
    body = case.body
    aimed = isinstance(body, dict) and "data" in body and isinstance(body.get("matter"), str)
    if aimed and data.draw(st.booleans(), label="real matter?"):
        body["matter"] = data.draw(st.sampled_from(fuzz.known["code"]), label="matter")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_answers_every_request_as_documented(fuzz, db, tmp_path, method, path, caller):
    operation = fuzz.schema[path][method]
    headers = {"Authorization": f"Bearer {fuzz.tokens[caller]}"}
    # Valid requests and invalid ones (wrong types, missing fields, values out of range);
    # an operation with nothing to make invalid simply draws valid ones.
    requests = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=requests, data=st.data())
    def run(case, data):
        _steer(fuzz, case, data)
        case.call_and_validate(headers=headers, checks=CHECKS)

    with override_settings(MEDIA_ROOT=tmp_path):
        run()


def test_every_matter_of_the_catalog_is_served_as_documented(world, client):
    """Regression (found by the fuzzer): GET /api/matters/home_work_order answered 500,
    because its note action (kind: note) was missing from the response schema's kinds."""
    from tongban.services import catalog

    codes = [catalog.spec_of(v).code for v in catalog.current_versions()]
    assert "home_work_order" in codes
    for code in codes:
        r = client.get(f"/api/matters/{code}")
        assert r.status_code == 200, (code, r.content[:200])
    kinds = {a["kind"] for a in client.get("/api/matters/home_work_order").json()["actions"]}
    assert "note" in kinds
