"""Portal pages through the Django test client: browse, apply, correct, withdraw, rate."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.services.demo import DEMO_PASSWORD, sample_pdf
from tongban.store.models import Case, Draft, Rating


@pytest.fixture
def resident(world):
    c = Client()
    assert c.login(username="zhangsan", password=DEMO_PASSWORD)
    return c


def staff(username):
    c = Client()
    assert c.login(username=username, password=DEMO_PASSWORD)
    return c


FORM = {
    "f-applicant_name": "张三",
    "f-contact_phone": "13812345678",
    "f-location": "湘城大街 18 号",
    "f-area": "30",
    "f-purpose": "施工",
    "f-start_date": "2026-12-01",
    "f-end_date": "2026-12-10",
    "f-safety_commitment": "on",
    "intent": "submit",
}


def files():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "m-site_plan": SimpleUploadedFile("plan.pdf", sample_pdf("plan"), "application/pdf"),
        "m-id_copy": SimpleUploadedFile("id.pdf", sample_pdf("id"), "application/pdf"),
    }


def test_catalog_browse_search_and_matter_page(world):
    c = Client()
    assert "临时占用城市道路审批" in c.get("/matters/").content.decode()
    assert "临时占用城市道路审批" in c.get("/matters/?q=占道").content.decode()
    assert "临时占用城市道路审批" not in c.get("/matters/?q=不存在的事项").content.decode()
    page = c.get("/matters/road_occupation/").content.decode()
    for expected in [
        "占道平面示意图",
        "5个工作日",
        "城市道路管理条例",
        "住房和城乡建设局",
        "不收费",
    ]:
        assert expected in page
    assert c.get("/matters/nope/").status_code == 404


def test_apply_requires_login(world):
    r = Client().get("/matters/road_occupation/apply/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_apply_with_errors_keeps_input_then_submits(resident):
    bad = {**FORM, "f-contact_phone": "12345"}
    r = resident.post("/matters/road_occupation/apply/", {**bad, **files()})
    page = r.content.decode()
    assert r.status_code == 400
    assert "手机号码" in page  # the inline error
    assert 'value="湘城大街 18 号"' in page  # what was typed is kept
    assert "plan.pdf" in page  # uploads are kept, not asked again
    assert (
        Case.objects.filter(applicant__username="zhangsan", data__location="湘城大街 18 号").count()
        == 0
    )
    # Fix the one field; the materials come back as references.
    import re

    refs = dict(re.findall(r'name="(m-\w+-ref)" value="([^"]*)"', page))
    refs = {k: v.replace("&quot;", '"') for k, v in refs.items()}
    key = re.search(r'name="idempotency_key" value="(\w+)"', page).group(1)
    form = {**FORM, **refs, "idempotency_key": key}
    r = resident.post("/matters/road_occupation/apply/", form)
    assert r.status_code == 302
    case = Case.objects.get(data__location="湘城大街 18 号")
    assert r["Location"] == f"/my/cases/{case.pk}/"
    assert set(case.materials) == {"site_plan", "id_copy"}
    # The answer got lost and the browser sends the form again: still one case.
    again = resident.post("/matters/road_occupation/apply/", form)
    assert again["Location"] == r["Location"]
    assert Case.objects.filter(data__location="湘城大街 18 号").count() == 1


def test_script_in_free_text_is_escaped(resident):
    evil = '<script>alert("x")</script>'
    r = resident.post("/matters/road_occupation/apply/", {**FORM, "f-location": evil, **files()})
    case = Case.objects.get(pk=int(r["Location"].rstrip("/").split("/")[-1]))
    page = resident.get(f"/my/cases/{case.pk}/").content.decode()
    assert evil not in page and "&lt;script&gt;" in page


def test_wrong_file_type_is_refused(resident):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("plan.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")
    r = resident.post("/matters/road_occupation/apply/", {**FORM, **files(), "m-site_plan": fake})
    assert r.status_code == 400
    assert "文件内容与扩展名不符" in r.content.decode() or "不支持的文件类型" in r.content.decode()


def test_save_draft_and_resume(resident):
    r = resident.post("/matters/road_occupation/apply/", {**FORM, "intent": "draft", "f-area": ""})
    assert r.status_code == 302
    assert Draft.objects.filter(user__username="zhangsan", matter_code="road_occupation").exists()
    page = resident.get("/matters/road_occupation/apply/").content.decode()
    assert "草稿" in page and 'value="湘城大街 18 号"' in page


def test_correction_withdraw_and_rating_flow(resident):
    r = resident.post("/matters/road_occupation/apply/", {**FORM, **files()})
    case_id = int(r["Location"].rstrip("/").split("/")[-1])
    clerk = staff("clerk_yangchenghu")
    r = clerk.post(f"/work/cases/{case_id}/act/request_correction/", {"comment": ""})
    assert r.status_code == 400 and "意见" in r.content.decode()
    clerk.post(f"/work/cases/{case_id}/act/request_correction/", {"comment": "面积请核实"})
    page = resident.get(f"/my/cases/{case_id}/").content.decode()
    assert "补正后重新提交" in page and "面积请核实" in page
    r = resident.post(
        f"/my/cases/{case_id}/act/resubmit/", {**FORM, "f-area": "25", "version": "2"}
    )
    assert r.status_code == 302
    assert Case.objects.get(pk=case_id).data["area"] == 25
    r = resident.post(f"/my/cases/{case_id}/act/withdraw/", {"version": "3"})
    case = Case.objects.get(pk=case_id)
    assert case.outcome == "withdrawn"
    # withdrawn cases are not rated
    resident.post(f"/my/cases/{case_id}/rate/", {"level": "5"})
    assert not Rating.objects.filter(case_id=case_id).exists()


def test_other_resident_cannot_see_case(resident):
    r = resident.post("/matters/road_occupation/apply/", {**FORM, **files()})
    case_id = int(r["Location"].rstrip("/").split("/")[-1])
    other = staff("lisi")
    assert other.get(f"/my/cases/{case_id}/").status_code == 404
    assert staff("clerk_canglang").get(f"/work/cases/{case_id}/").status_code == 404
