"""Several processes at once on one database: no duplicate number, no gap, no lost update."""

from __future__ import annotations

import pytest
from django.db import connections, transaction

from tests.conftest import ensure_world
from tests.processes import run_in_processes

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4


def _in_child(fn, *args):
    """Run fn in WORKERS fresh processes on the test database; return their results."""
    return run_in_processes(fn, [(i, *args) for i in range(WORKERS)])


def _issue_numbers(worker: int, count: int) -> list[int]:
    from tongban.services import numbering

    issued = []
    for i in range(count):
        try:
            with transaction.atomic():
                value = numbering.next_value("concurrency-test")
                if (worker + i) % 5 == 0:
                    raise RuntimeError("roll this one back")
                issued.append(value)
        except RuntimeError:
            pass
    connections.close_all()
    return issued


def test_concurrent_issuers_get_gapless_unique_numbers():
    results = _in_child(_issue_numbers, 25)
    issued = sorted(n for r in results for n in r)
    assert len(issued) == len(set(issued)), "a number was issued twice"
    assert issued == list(range(1, len(issued) + 1)), "a rolled-back number left a gap"
    assert len(issued) == WORKERS * 25 - WORKERS * 5


def _accept(worker: int, case_id: int) -> str:
    from django.contrib.auth import get_user_model

    from tongban.services import cases
    from tongban.services.errors import ServiceError

    clerk = get_user_model().objects.get(username="clerk_yangchenghu")
    try:
        cases.act(case_id, clerk, cases.ActRequest(action="accept", expected_version=1))
        outcome = "ok"
    except ServiceError as exc:
        outcome = exc.code
    connections.close_all()
    return outcome


def test_concurrent_actions_on_one_case_never_lose_an_update():
    from django.contrib.auth import get_user_model

    from tests.services.test_cases import GOOD
    from tongban.services import cases
    from tongban.services.audit import verify_all

    ensure_world()
    applicant = get_user_model().objects.get(username="zhangsan")
    from tongban.services.demo import demo_materials

    case = cases.submit("road_occupation", applicant, GOOD, materials=demo_materials(applicant))
    outcomes = _in_child(_accept, case.pk)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) - {"ok"} <= {"stale", "not_allowed_in_state"}
    case.refresh_from_db()
    assert (case.state, case.version, case.event_count) == ("review", 2, 2)
    assert [f for _, f in verify_all([case.pk])] == [None]


def _full_flow(worker: int, per_worker: int) -> list[str]:
    from django.contrib.auth import get_user_model

    from tests.services.test_cases import GOOD
    from tongban.services import cases
    from tongban.store.models import Certificate

    User = get_user_model()
    u = {
        n: User.objects.get(username=n)
        for n in [
            "zhangsan",
            "clerk_yangchenghu",
            "reviewer_yangchenghu",
            "urban_mgmt_xiangcheng",
            "traffic_police_xiangcheng",
            "approver_xiangcheng",
        ]
    }
    from tongban.services.demo import demo_materials

    files = demo_materials(u["zhangsan"])
    numbers = []
    steps = [
        ("clerk_yangchenghu", "accept"),
        ("reviewer_yangchenghu", "pass_review"),
        ("urban_mgmt_xiangcheng", "cosign"),
        ("traffic_police_xiangcheng", "cosign"),
        ("approver_xiangcheng", "approve"),
    ]
    for _ in range(per_worker):
        case = cases.submit("road_occupation", u["zhangsan"], GOOD, materials=files)
        for who, action in steps:
            cases.act(case.pk, u[who], cases.ActRequest(action=action))
        numbers.append(Certificate.objects.get(case_id=case.pk).number)
    connections.close_all()
    return numbers


def test_concurrent_flows_issue_every_certificate_number_once():
    ensure_world()
    results = _in_child(_full_flow, 5)
    numbers = sorted(n for r in results for n in r)
    assert len(numbers) == len(set(numbers)) == WORKERS * 5
    seqs = sorted(int(n[-5:]) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
