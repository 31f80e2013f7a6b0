"""Attacks beside the access matrix: personal data masked wherever it is listed or exported."""

from __future__ import annotations

import pytest

from tests.security.world import (
    IDS,
    MARK,
    PHONES,
    body_text,
)
from tongban.engine.validators import mask_id_card, mask_phone

# --- personal data: masked unless revealed (and logged) -------------------------------------


def _full_and_masked(kind: str) -> tuple[str, str]:
    if kind in IDS:
        return IDS[kind], mask_id_card(IDS[kind])
    return PHONES[kind], mask_phone(PHONES[kind])


@pytest.mark.parametrize(
    ("who", "obj", "secret"),
    [
        ("clerk_yangchenghu", "open", "open"),
        ("reviewer_yangchenghu", "approved", "approved"),
        ("dispatcher_xiangcheng", "request", "request"),
        ("birth_registrar_xiangcheng", "birth", "mother"),
        ("mediator_yangchenghu", "mediation", "party"),
        ("supervisor_xiangcheng", "mediation", "party"),
        ("head_yangchenghu", "open", "open"),
    ],
)
def test_staff_case_page_and_api_mask_personal_data(s, who, obj, secret):
    w = s.world
    full, masked = _full_and_masked(secret)
    page = s.client(who).get(f"/work/cases/{w.pk(obj)}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert full not in text and masked in text
    api = s.client(None).get(f"/api/cases/{w.pk(obj)}", headers=s.bearer(who))
    assert api.status_code == 200 and api.json()["masked"] is True
    assert full not in body_text(api) and masked in body_text(api)
    events = s.client(None).get(f"/api/cases/{w.pk(obj)}/events", headers=s.bearer(who))
    assert full not in body_text(events)


def test_the_applicant_sees_their_own_data(s):
    w = s.world
    api = s.client(None).get(f"/api/cases/{w.pk('open')}", headers=s.bearer("zhangsan"))
    assert api.json()["masked"] is False and api.json()["data"]["contact_phone"] == PHONES["open"]
    assert PHONES["open"] in s.client("zhangsan").get(f"/my/cases/{w.pk('open')}/").content.decode()


def test_staff_action_response_is_masked(s):
    w = s.world
    r = s.client(None).post(
        f"/api/cases/{w.pk('open')}/actions/accept",
        "{}",
        content_type="application/json",
        headers=s.bearer("clerk_yangchenghu"),
    )
    assert r.status_code == 200, r.content
    assert PHONES["open"] not in body_text(r) and r.json()["masked"] is True


@pytest.mark.parametrize(
    ("who", "obj", "field", "secret"),
    [
        ("clerk_yangchenghu", "open", "contact_phone", "open"),
        ("mediator_yangchenghu", "mediation", "parties.0.party_id_card", "party"),
        ("birth_registrar_xiangcheng", "birth", "mother_id", "mother"),
    ],
)
def test_reveal_shows_one_value_and_logs_it(s, who, obj, field, secret):
    from tongban.store.models import RevealLog

    w = s.world
    full, _ = _full_and_masked(secret)
    c = s.client(who)
    assert c.get(f"/work/cases/{w.pk(obj)}/reveal/?field={field}").status_code == 405
    before = RevealLog.objects.count()
    r = c.post(f"/work/cases/{w.pk(obj)}/reveal/", {"field": field}, REMOTE_ADDR="10.7.0.7")
    assert r.status_code == 200 and r.content.decode() == full
    assert RevealLog.objects.count() == before + 1
    log = RevealLog.objects.latest("pk")
    assert (log.user.username, log.case_id, log.field, log.ip) == (
        who,
        w.pk(obj),
        field,
        "10.7.0.7",
    )


@pytest.mark.parametrize("who", ["supervisor_xiangcheng", "head_yangchenghu"])
def test_supervision_export_has_no_personal_data(s, who):
    import io

    from openpyxl import load_workbook

    w = s.world
    r = s.client(who).get("/supervise/export.xlsx")
    assert r.status_code == 200
    overdue = load_workbook(io.BytesIO(r.content))["超期清单"]
    assert w.pk("overdue") in [row[0] for row in overdue.iter_rows(min_row=2, values_only=True)]
    text = body_text(r)
    for value in [*PHONES.values(), *IDS.values(), MARK]:
        assert value not in text  # the overdue case is listed without anyone's data


def test_registry_lists_lookups_and_exports_are_masked(s):
    w = s.world
    full, masked = IDS["registry"], mask_id_card(IDS["registry"])
    phone = PHONES["registry"]
    c = s.client("clerk_yangchenghu")
    for path in (
        "/registry/person/",
        f"/registry/person/{w.person_pk}/",
        f"/registry/person/lookup?q={full}",
        "/registry/person/export.xlsx",
    ):
        r = c.get(path)
        assert r.status_code == 200, path
        text = body_text(r)
        assert full not in text and phone not in text and masked in text, path


def test_registry_search_never_matches_part_of_a_masked_number(s):
    c = s.client("clerk_yangchenghu")
    partial = IDS["registry"][:14]
    assert c.get(f"/registry/person/lookup?q={partial}").json()["results"] == []
    assert len(c.get(f"/registry/person/lookup?q={IDS['registry']}").json()["results"]) == 1


def test_registry_unmasked_export_is_a_logged_reveal(s):
    from tongban.store.models import RevealLog

    w = s.world
    c = s.client("clerk_yangchenghu")
    assert IDS["registry"] not in body_text(c.get("/registry/person/export.xlsx?unmasked=1"))
    before = RevealLog.objects.count()
    r = c.post("/registry/person/export.xlsx", {"unmasked": "1"}, REMOTE_ADDR="10.8.0.8")
    assert r.status_code == 200
    assert IDS["registry"] in body_text(r)
    logs = RevealLog.objects.filter(subject=f"person:{w.person_pk}")
    assert RevealLog.objects.count() > before
    assert logs.filter(user__username="clerk_yangchenghu", ip="10.8.0.8").exists()


def test_registry_reveal_is_logged(s):
    from tongban.store.models import RevealLog

    w = s.world
    c = s.client("clerk_yangchenghu")
    r = c.post(f"/registry/person/{w.person_pk}/reveal/", {"field": "id_number"})
    assert r.status_code == 200 and r.content.decode() == IDS["registry"]
    log = RevealLog.objects.latest("pk")
    assert (log.user.username, log.subject, log.field) == (
        "clerk_yangchenghu",
        f"person:{w.person_pk}",
        "id_number",
    )


def test_mediation_agreement_prints_numbers_masked(s):
    from tongban.services.reports import mediation

    w = s.world
    doc = mediation.agreement_doc(w.cases["mediation"])
    party = doc.parties[0]
    assert party.id_card == mask_id_card(IDS["party"]) and party.phone == mask_phone(
        PHONES["party"]
    )
    assert IDS["party"] not in repr(doc) and PHONES["party"] not in repr(doc)
    r = s.client("mediator_yangchenghu").get(
        f"/reports/mediation/{w.pk('mediation')}/agreement.pdf"
    )
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Cache-Control"] == "private, no-store"
