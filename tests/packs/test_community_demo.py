"""The community-service demo data: every case built once."""

from __future__ import annotations

from tests.packs.community import audit_ok, enforcement_of, reminded
from tongban.services.followups import sweep_reminders
from tongban.services.reports import food, home_work, mediation
from tongban.store.models import Case

# ---------------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------------


def test_demo_builds_its_cases_once(users):
    from tongban.services.demo_packs import community_services

    keys = {
        "demo-mediation-rent",
        "demo-mediation-wage",
        "demo-food-sampling",
        "demo-home-work-paid",
        "demo-home-work-open",
        "demo-home-work-lisi",
    }
    community_services.build()
    made = Case.objects.filter(idempotency_key__in=keys)
    assert set(made.values_list("idempotency_key", flat=True)) == keys
    rent = made.get(idempotency_key="demo-mediation-rent")
    assert rent.state == "performing" and rent.data["agreed_total"] == 2800
    assert mediation.agreement_pdf(rent).startswith(b"%PDF")
    sweep_reminders()
    assert reminded(rent) == [1]  # the second instalment is overdue and unpaid
    sampled = Case.objects.filter(matter_code="food_sampling", created_by=users.sampler_xiangcheng)
    assert sampled.count() == 7
    failing = [c for c in sampled if c.data["verdict"] == "不合格"]
    assert len(failing) == 1 and enforcement_of(failing[0]).get().state == "investigating"
    pub = food.publication()
    assert (pub.total, pub.passed, pub.failed) == (6, 5, 1)
    rep = home_work.income_for(users.disability_worker_yangchenghu)
    assert [(p.name, str(p.income)) for p in rep.people] == [("张三", "144.00")]

    before = Case.objects.count()
    community_services.build()
    assert Case.objects.count() == before
    audit_ok(*Case.objects.filter(matter_code__in=community_services.MATTERS))
