"""A worklist of several seats (and countersign states) pages exactly like the plain query,
however its pages are read (on PostgreSQL branch by branch, see services/worklist.py)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from tests.services.test_cases import GOOD
from tongban.services import cases, worklist
from tongban.services.demo import demo_materials
from tongban.store.models import Case, Membership, Org


def _multi_seat(users):
    user = get_user_model().objects.create_user("multi_seat_test")
    street = Org.objects.get(code="320507103")
    district = Org.objects.get(code="320507")
    seats = [
        (street, "clerk"),
        (street, "reviewer"),
        (district, "reviewer"),
        (district, "urban_mgmt"),
    ]
    for org, role in seats:
        Membership.objects.create(user=user, org=org, role=role)
    return user


def _cases(users, multi) -> list[int]:
    materials = demo_materials(users.zhangsan)
    made = []
    for i in range(12):
        case = cases.submit("road_occupation", users.zhangsan, GOOD, materials=materials)
        if i % 3 >= 1:
            cases.act(case.pk, users.clerk_yangchenghu, cases.ActRequest(action="accept"))
        if i % 3 == 2:
            cases.act(case.pk, users.reviewer_yangchenghu, cases.ActRequest(action="pass_review"))
        made.append(case.pk)
    # interleave the branches' deadlines, with ties (broken by id) and one without deadline
    base = timezone.now()
    for n, pk in enumerate(made):
        Case.objects.filter(pk=pk).update(deadline=base + timedelta(hours=(n * 7) % 5))
    # no deadline, and a step of no level: both reviewer seats (street, district) see it
    Case.objects.filter(pk=made[4]).update(deadline=None, pending_level="")
    # handed over (转交): to someone else it leaves this worklist, to this user it stays
    Case.objects.filter(pk=made[1]).update(handler=users.reviewer_yangchenghu)
    Case.objects.filter(pk=made[7]).update(handler=multi)
    return made


def test_several_seat_worklist_pages_like_the_plain_query(users):
    multi = _multi_seat(users)
    made = _cases(users, multi)
    plain = (
        Case.objects.filter(worklist.pending_q(multi, worklist.seats(multi)))
        .order_by("deadline", "pk")
        .values_list("pk", flat=True)
    )
    expected = list(plain)
    assert len(expected) == len(set(expected))
    assert made[4] in (expected[0], expected[-1])  # no deadline: last (PostgreSQL), first (SQLite)
    assert set(made) - set(expected) == {made[1]}  # every branch contributes
    qs = worklist.worklist(multi)
    assert [c.pk for c in qs] == expected
    for start, stop in [(0, 1), (0, 5), (3, 7), (6, 7), (8, 10), (5, 50), (10, 11), (30, 40)]:
        page = list(worklist.worklist(multi)[start:stop])  # a fresh query each time
        assert [c.pk for c in page] == expected[start:stop], (start, stop)
    if connection.vendor == "postgresql":  # read branch by branch
        assert " UNION " in str(worklist.worklist(multi)[0:5].query)
    first = worklist.worklist(multi)[0:3]
    assert [c.matter.code for c in first] == ["road_occupation"] * 3
    assert first[0].org.code == "320507103001"
    assert first[0].data["applicant_name"] == "张三"  # not listed, still there when asked
    assert qs.count() == len(expected) and qs.filter(pk=expected[-1]).exists()

    review = worklist.worklist(multi, matter="road_occupation", state="review")
    want = list(plain.filter(state="review"))
    assert [c.pk for c in review[1:3]] == want[1:3]
    now = timezone.now()
    soon = worklist.worklist(multi, "soon", now=now)
    want = list(plain.filter(deadline__gte=now, deadline__lt=now + worklist.SOON))
    assert len(want) > 4 and [c.pk for c in soon[2:6]] == want[2:6]
