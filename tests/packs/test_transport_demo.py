"""The transport demo data makes what its docstring promises: vehicle passes issued, with
the town, with the district, sent back for correction and refused; freight returns with a
code valid now, an amended one re-issued, one awaiting review (overdue after ten
minutes) and one finished — each once, however often `tongban demo` runs."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tongban.services import certificates
from tongban.services.audit import verify_all
from tongban.services.demo_packs import transport
from tongban.services.worker import sweep
from tongban.store.models import Case, Certificate, Outbox

PASSES = {  # demo number → (state, pending role)
    1: ("issued", ""),  # ent_demo, valid this week
    2: ("review", "econ_officer"),  # ent_demo's second vehicle
    3: ("approval", "agri_approver"),
    4: ("correction", "applicant"),
    5: ("refused", ""),
}
RETURNS = {
    1: ("issued", "applicant"),  # code valid now
    2: ("issued", "applicant"),  # ran late: re-issued
    3: ("review", "freight_reviewer"),
    4: ("returned", ""),
}


def demo_cases(matter: str) -> dict[int, Case]:
    prefix = f"{transport.MARK}-{matter}-"
    made = Case.objects.filter(idempotency_key__startswith=prefix)
    return {int(c.idempotency_key.removeprefix(prefix)): c for c in made}


def test_transport_demo_makes_every_case_it_promises_once(users):
    transport.build()
    passes, returns = demo_cases("vehicle_pass"), demo_cases("freight_return")
    assert {n: (c.state, c.pending_role) for n, c in passes.items()} == PASSES
    assert {n: (c.state, c.pending_role) for n, c in returns.items()} == RETURNS
    assert {c.applicant.username for n, c in passes.items() if n <= 2} == {"ent_demo"}
    assert passes[4].events.get(action="request_correction").body.count("行驶证照片不清晰") == 1
    assert "不属于重点保供物资" in passes[5].events.get(action="refuse").body
    assert not Certificate.objects.filter(case__in=[passes[n] for n in (2, 3, 4, 5)]).exists()

    # ent_demo's pass is valid now, for the week.
    issued = Certificate.objects.get(case=passes[1])
    assert certificates.public_status(issued.number)["status"] == "valid"
    assert issued.valid_to - issued.valid_from > timedelta(days=6)

    # Return code 1 is valid now; 2 was re-issued and its first code revoked.
    code = Certificate.objects.get(case=returns[1])
    assert certificates.public_status(code.number)["status"] == "valid"
    first, second = Certificate.objects.filter(case=returns[2]).order_by("pk")
    assert first.revoke_reason == f"已重新签发：{second.number}"
    assert certificates.public_status(first.number)["status"] == "revoked"
    assert certificates.public_status(second.number)["status"] == "valid"
    assert returns[2].data["cargo"] == "服装 6 吨"
    assert returns[4].outcome == "completed"
    assert returns[4].events.filter(action="confirm_return").exists()

    # The declaration waiting for review is overdue ten minutes after it was filed, and the
    # unit head hears of it.
    waiting = returns[3]
    assert sweep(now=waiting.submitted_at + timedelta(minutes=10, seconds=1)) >= 1
    waiting.refresh_from_db()
    assert waiting.overdue and waiting.state == "review"
    assert Outbox.objects.filter(case=waiting, topic="escalated").count() == 1

    # Twice is once.
    before = Case.objects.count()
    transport.build()
    assert Case.objects.count() == before
    assert len(demo_cases("vehicle_pass")) == 5 and len(demo_cases("freight_return")) == 4
    made = [*passes.values(), *returns.values()]
    assert [f for _, f in verify_all([c.pk for c in made])] == [None] * len(made)
    assert all(c.submitted_at < timezone.now() for c in made)  # made in the past days
