"""新生儿出生一件事 in the browser: one merged form on a phone, one status page, each unit
handles only its own item, a correction of one item goes back alone."""

from __future__ import annotations

import io
import re

import pytest
import segno

from tests.browser.conftest import login
from tests.conftest import ensure_world
from tongban.services.demo import sample_pdf
from tongban.store.models import Bundle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = {
    "新生儿姓名": "张小宝",
    "出生日期": "2026-11-20",
    "出生体重（克）": "3300",
    "出生医院": "相城区人民医院",
    "母亲姓名": "李梅",
    "母亲身份证号码": "11010519491231002X",
    "父亲姓名": "张三",
    "父亲身份证号码": "11010519491231002X",
    "母亲联系电话": "13812345678",
    "户籍地址": "相城区阳澄湖镇湘城社区 8 幢",
    "待遇发放银行账号": "6222020200112233445",
}


def test_newborn_bundle(open_page, screens, tmp_path):
    ensure_world()
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(sample_pdf("doc"))
    photo = tmp_path / "photo.png"
    buf = io.BytesIO()
    segno.make("baby").save(buf, kind="png", scale=10)
    photo.write_bytes(buf.getvalue())

    phone = open_page(390)
    login(phone, "zhangsan")
    phone.goto("/matters/?category=一件事")
    phone.get_by_role("link", name="新生儿出生一件事").click()
    screens.shot(phone, "bundle-page")
    phone.get_by_role("link", name="一次申请").click()
    for label, value in TYPED.items():
        phone.get_by_label(label).fill(value)
    phone.locator("fieldset", has_text="新生儿性别").get_by_label("男").check()
    phone.locator("fieldset", has_text="分娩方式").get_by_label("顺产").check()
    phone.locator("fieldset", has_text="母亲是否参加职工生育保险").get_by_label("是").check()
    for name in ["父母双方身份证", "户口簿", "结婚证", "住院分娩记录", "银行卡"]:
        phone.get_by_label(name).set_input_files(str(pdf))
    phone.get_by_label("新生儿照片").set_input_files(str(photo))
    screens.shot(phone, "merged-form")
    # every question once: the mother's name appears on the form a single time
    assert phone.get_by_label("母亲姓名").count() == 1
    phone.get_by_role("button", name="一次提交").click()
    phone.wait_for_url(re.compile(r"/my/bundles/\d+/"))
    bundle_id = int(re.search(r"/my/bundles/(\d+)/", phone.url).group(1))
    screens.shot(phone, "status")
    assert phone.get_by_text("等待前置事项办结后自动发起").count() == 3

    hospital = open_page(1280)
    login(hospital, "birth_registrar_xiangcheng")
    hospital.goto("/work/")
    hospital.locator("a[href^='/work/cases/']").first.click()
    page_text = hospital.content()
    assert "张小宝" in page_text and "6222020200112233445" not in page_text  # not its field
    hospital.get_by_role("button", name="办结", exact=True).click()
    hospital.wait_for_load_state()

    police = open_page(1280)
    login(police, "hukou_officer_yangchenghu")
    police.goto("/work/")
    rows = police.locator("table.list tbody tr")
    assert rows.count() == 1 and "出生户口登记" in rows.first.inner_text()
    screens.shot(police, "police-worklist")

    health = open_page(1280)
    login(health, "vaccination_officer_yangchenghu")
    health.goto("/work/")
    health.locator("a[href^='/work/cases/']").first.click()
    form = health.locator("form", has=health.get_by_role("button", name="退回补正"))
    form.get_by_label(re.compile("意见")).fill("联系电话无法接通，请核实")
    form.get_by_role("button", name="退回补正").click()
    health.wait_for_load_state()

    phone.reload()
    screens.shot(phone, "needs-correction")
    assert phone.get_by_text(re.compile("需要您补正")).count() == 1
    phone.get_by_role("link", name="去补正").click()
    phone.get_by_label("母亲联系电话").fill("13987654321")
    phone.get_by_role("button", name="补正后重新提交").click()
    phone.wait_for_load_state()
    bundle = Bundle.objects.get(pk=bundle_id)
    statuses = dict(bundle.items.values_list("key", "status"))
    assert statuses["hukou"] == "active" and statuses["birth"] == "completed"
    assert statuses["vaccination"] == "active"
