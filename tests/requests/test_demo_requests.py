"""`tongban demo` raises a handful of requests in 相城区, so the dispatcher queue, the
departments and the request dashboard show something; running it twice adds nothing."""

from __future__ import annotations

from collections import Counter

from tongban.services import requests
from tongban.services.demo_packs import citizen_requests
from tongban.store.models import Case


def test_demo_requests_cover_the_lifecycle_and_run_twice(world):
    citizen_requests.build()
    rows = Case.objects.filter(matter_code=requests.MATTER, j_district="320507")
    assert rows.count() == len(citizen_requests.REQUESTS)
    states = Counter(rows.values_list("state", flat=True))
    # What the classifier is not sure of, the demo dispatcher routes by hand; each request
    # then goes as far as its scenario says.
    assert states == Counter(goal for *_, goal in citizen_requests.REQUESTS)
    closed = rows.get(state="closed")
    assert (
        closed.data["satisfaction"] == "满意" and closed.events.filter(action="callback").exists()
    )
    citizen_requests.build()
    assert rows.count() == len(citizen_requests.REQUESTS)
