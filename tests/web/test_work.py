"""Workbench pages: worklists by jurisdiction, the case page, masking and reveal log,
actions, window registration, bulk accept."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.services.test_cases import GOOD
from tongban.services import cases
from tongban.services.demo import DEMO_PASSWORD, demo_materials
from tongban.store.models import Case, RevealLog


def login(username):
    c = Client()
    assert c.login(username=username, password=DEMO_PASSWORD)
    return c


@pytest.fixture
def case(users):
    return cases.submit(
        "road_occupation",
        users.zhangsan,
        {**GOOD, "contact_phone": "13912345678"},
        materials=demo_materials(users.zhangsan),
    )


def test_worklist_shows_only_own_jurisdiction_and_role(case):
    page = login("clerk_yangchenghu").get("/work/").content.decode()
    assert f'href="/work/cases/{case.pk}/"' in page
    assert (
        f'href="/work/cases/{case.pk}/"'
        not in login("clerk_canglang").get("/work/").content.decode()
    )
    # the reviewer of the same street has nothing to do yet
    assert (
        f'href="/work/cases/{case.pk}/"'
        not in login("reviewer_yangchenghu").get("/work/").content.decode()
    )


def test_residents_have_no_workbench(world):
    assert login("zhangsan").get("/work/").status_code == 403


def test_case_page_masks_phone_and_logs_reveal(case, users):
    clerk = login("clerk_yangchenghu")
    page = clerk.get(f"/work/cases/{case.pk}/").content.decode()
    assert "13912345678" not in page and "139****5678" in page
    r = clerk.post(f"/work/cases/{case.pk}/reveal/", {"field": "contact_phone"})
    assert r.content.decode() == "13912345678"
    log = RevealLog.objects.get(case=case)
    assert (log.user.username, log.field) == ("clerk_yangchenghu", "contact_phone")
    # outside the jurisdiction: no reveal, nothing logged
    assert (
        login("clerk_canglang")
        .post(f"/work/cases/{case.pk}/reveal/", {"field": "contact_phone"})
        .status_code
        == 404
    )
    assert RevealLog.objects.filter(case=case).count() == 1


def test_actions_rendered_from_workflow_and_taken(case):
    clerk = login("clerk_yangchenghu")
    page = clerk.get(f"/work/cases/{case.pk}/").content.decode()
    assert "受理" in page and "退回补正" in page and "准予许可" not in page
    r = clerk.post(f"/work/cases/{case.pk}/act/accept/", {"version": "1"})
    assert r.status_code == 302
    assert Case.objects.get(pk=case.pk).state == "review"
    # stale form: the same version again is a conflict, shown on the page
    r = clerk.post(f"/work/cases/{case.pk}/act/accept/", {"version": "1"})
    assert r.status_code == 409


def test_countersign_progress_shown(case, users):
    for who, action in [
        ("clerk_yangchenghu", "accept"),
        ("reviewer_yangchenghu", "pass_review"),
        ("urban_mgmt_xiangcheng", "cosign"),
    ]:
        cases.act(case.pk, getattr(users, who), cases.ActRequest(action=action))
    page = login("traffic_police_xiangcheng").get(f"/work/cases/{case.pk}/").content.decode()
    assert "会签进度：1/2" in page
    assert (
        f'href="/work/cases/{case.pk}/"'
        in login("traffic_police_xiangcheng").get("/work/").content.decode()
    )


def test_bulk_accept(users):
    files = demo_materials(users.zhangsan)
    ids = [
        cases.submit("road_occupation", users.zhangsan, GOOD, materials=files).pk for _ in range(3)
    ]
    r = login("clerk_yangchenghu").post(
        "/work/bulk/", {"case": [str(i) for i in ids], "action": "accept"}
    )
    assert r.status_code == 302
    assert set(Case.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"review"}


def test_window_registration_for_walk_in(world):
    from tests.web.test_portal import FORM, files

    clerk = login("clerk_yangchenghu1")
    r = clerk.post("/work/register/road_occupation/", {**FORM, **files(), "for_user": "nobody"})
    assert r.status_code == 400 and "找不到该申请人" in r.content.decode()
    r = clerk.post("/work/register/road_occupation/", {**FORM, **files(), "for_user": "zhangsan"})
    assert r.status_code == 302
    case = Case.objects.latest("pk")
    assert (
        case.applicant.username == "zhangsan" and case.created_by.username == "clerk_yangchenghu1"
    )


def test_material_served_only_within_jurisdiction(case):
    sha = case.materials["site_plan"][0]["sha256"]
    r = login("clerk_yangchenghu").get(f"/files/{case.pk}/{sha}")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert login("clerk_canglang").get(f"/files/{case.pk}/{sha}").status_code == 404
    assert login("clerk_yangchenghu").get(f"/files/{case.pk}/{'0' * 64}").status_code == 404


def test_login_throttled_after_repeated_failures(world):
    c = Client()
    for _ in range(5):
        c.post("/accounts/login/", {"username": "zhangsan", "password": "wrong"})
    r = c.post("/accounts/login/", {"username": "zhangsan", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and "15 分钟" in r.content.decode()


def test_csrf_required_on_posts(case):
    c = Client(enforce_csrf_checks=True)
    assert c.login(username="clerk_yangchenghu", password=DEMO_PASSWORD)
    r = c.post(f"/work/cases/{case.pk}/act/accept/", {"version": "1"})
    assert r.status_code == 403
    assert Case.objects.get(pk=case.pk).state == "submitted"


def test_demo_accounts_listed_only_in_demo_mode(world, settings):
    settings.DEMO = False
    assert "演示账号" not in Client().get("/accounts/login/").content.decode()
    settings.DEMO = True
    assert "clerk_yangchenghu" in Client().get("/accounts/login/").content.decode()
