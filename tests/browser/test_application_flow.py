"""A resident applies on a phone, staff handle it on a desktop, the resident corrects,
downloads the certificate and rates the service; another community's staff cannot see it."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login
from tests.conftest import ensure_world
from tongban.services.demo import sample_pdf
from tongban.store.models import Case, Rating

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_application(page, tmp_path, phone: str) -> None:
    page.get_by_label("申请人姓名或单位名称").fill("张三")
    page.get_by_label("联系电话").fill(phone)
    page.get_by_label("占用地点").fill("阳澄湖镇湘城大街 18 号门前")
    page.get_by_label("占用面积").fill("30")
    page.get_by_label("施工").check()
    page.get_by_label("开始日期").fill("2026-12-01")
    page.get_by_label("结束日期").fill("2026-12-10")
    page.get_by_label(re.compile("我已阅读并承诺")).check()
    plan = tmp_path / "平面图.pdf"
    plan.write_bytes(sample_pdf("plan"))
    page.get_by_label("占道平面示意图").set_input_files(str(plan))
    page.get_by_label("申请人身份证明").set_input_files(str(plan))


def staff_act(open_page, username: str, case_id: int, button: str, screens, comment: str = ""):
    page = open_page(1280)
    login(page, username)
    page.goto(f"/work/cases/{case_id}/")
    screens.shot(page, f"{username}-case")
    form = page.locator("form", has=page.get_by_role("button", name=button, exact=True))
    if comment:
        form.get_by_label(re.compile("意见")).fill(comment)
    form.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    return page


def test_apply_correct_approve_download_rate(open_page, screens, tmp_path):
    ensure_world()
    phone = open_page(390)
    login(phone, "zhangsan")
    phone.goto("/matters/road_occupation/")
    screens.shot(phone, "matter-page")
    phone.get_by_role("link", name="在线申请").click()
    fill_application(phone, tmp_path, phone="12345")  # one field wrong first
    phone.get_by_role("button", name="提交").click()
    phone.wait_for_load_state()
    assert "手机号码" in phone.locator("#id_f-contact_phone-error").inner_text()
    assert phone.get_by_label("占用地点").input_value() == "阳澄湖镇湘城大街 18 号门前"
    screens.shot(phone, "apply-error")
    phone.get_by_label("联系电话").fill("13812345678")
    phone.get_by_role("button", name="提交").click()
    phone.wait_for_url(re.compile(r"/my/cases/\d+/"))
    case_id = int(re.search(r"/my/cases/(\d+)/", phone.url).group(1))
    screens.shot(phone, "submitted")

    staff_act(
        open_page, "clerk_yangchenghu", case_id, "退回补正", screens, comment="请核实占用面积"
    )
    phone.reload()
    assert phone.get_by_text("工作人员意见：请核实占用面积").is_visible()
    phone.get_by_label("占用面积").fill("25")
    phone.get_by_role("button", name="补正后重新提交").click()
    phone.wait_for_load_state()
    screens.shot(phone, "corrected")
    assert Case.objects.get(pk=case_id).data["area"] == 25

    for user, button in [
        ("clerk_yangchenghu", "受理"),
        ("reviewer_yangchenghu", "审核通过"),
        ("urban_mgmt_xiangcheng", "会签同意"),
        ("traffic_police_xiangcheng", "会签同意"),
        ("approver_xiangcheng", "准予许可"),
    ]:
        staff_act(open_page, user, case_id, button, screens)
    assert Case.objects.get(pk=case_id).outcome == "completed"

    phone.reload()
    screens.shot(phone, "approved")
    with phone.expect_download() as download:
        phone.get_by_role("link", name=re.compile("下载证照")).click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")

    phone.get_by_label("非常满意").check()
    phone.get_by_label("意见（选填）").fill("办得很快")
    phone.get_by_role("button", name="提交评价").click()
    phone.wait_for_load_state()
    assert Rating.objects.get(case_id=case_id).level == 5
    screens.shot(phone, "rated")

    outsider = open_page(1280)
    login(outsider, "clerk_canglang")
    response = outsider.goto(f"/work/cases/{case_id}/")
    assert response.status == 404
    outsider.goto("/work/")
    assert outsider.locator(f'a[href="/work/cases/{case_id}/"]').count() == 0
    screens.shot(outsider, "outsider-worklist")


def test_application_form_works_with_keyboard_alone(open_page, screens, tmp_path):
    ensure_world()
    page = open_page(1280)
    login(page, "zhangsan")
    page.goto("/matters/road_occupation/apply/")
    page.get_by_label("申请人姓名或单位名称").focus()
    page.keyboard.type("张三")
    page.keyboard.press("Tab")
    page.keyboard.type("13812345678")
    page.keyboard.press("Tab")
    page.keyboard.type("湘城大街 1 号")
    page.keyboard.press("Tab")
    page.keyboard.type("12")
    page.keyboard.press("Tab")  # into the radio group
    page.keyboard.press("Space")
    assert page.get_by_label("施工").is_checked()
    # every input has a label
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll(
                  'main input:not([type=hidden]), main select, main textarea')]
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.name)"""
    )
    assert unlabeled == []
    screens.shot(page, "keyboard")
