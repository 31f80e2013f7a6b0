"""An enterprise applies for a key-supplies vehicle pass (two drivers), the town's
economic office reviews it, the district agriculture bureau approves it; the enterprise
downloads the PDF, whose QR code — read back from the rendered page with zbarimg, as a
phone camera would — is the address of the public verification page, which says 有效.
The bureau then revokes the pass on its case page, and the same address says 已撤销."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from urllib.parse import quote, unquote

import pytest
from django.utils import timezone

from tests.browser.conftest import login
from tests.browser.test_application_flow import staff_act
from tests.conftest import ensure_world
from tongban.services.demo import sample_pdf
from tongban.services.demo_packs.transport import id_number, uscc
from tongban.store.models import Case, Certificate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_pass(page, tmp_path) -> tuple[str, str]:
    today = timezone.localdate()
    start, end = today.isoformat(), (today + timedelta(days=6)).isoformat()
    page.get_by_label("企业名称").fill("苏州阳澄湖农产品有限公司")
    page.get_by_label("统一社会信用代码").fill(uscc(11))
    page.get_by_label("联系人").fill("陈经理")
    page.get_by_label("联系电话").fill("13915200011")
    page.get_by_label("车牌号码").fill("苏E·12F34")
    page.get_by_label("车辆类型").select_option("冷藏车")
    page.get_by_label("核定载质量").fill("8")
    for i, (name, n, phone) in enumerate(
        [("王建军", 11, "13815200011"), ("刘海", 12, "13815200012")]
    ):
        if i:
            page.get_by_role("button", name="＋ 再加一行").click()
        row = page.locator("fieldset.row").nth(i)
        assert row.locator("legend").first.inner_text() == f"第{i + 1}行"
        row.get_by_label("姓名").fill(name)
        row.get_by_label("身份证号码").fill(id_number(n))
        row.get_by_label("手机号码").fill(phone)
        row.get_by_label(re.compile("^驾驶证号")).fill(id_number(n))
    page.get_by_label("农产品").check()
    page.get_by_label("物资名称及数量").fill("蔬菜 8 吨")
    page.get_by_label("起点").fill("苏州市相城区阳澄湖镇湘城农产品基地")
    page.get_by_label("终点").fill("苏州市南环桥农副产品批发市场")
    page.get_by_label("通行路线").fill("阳澄湖大道—中环北线—南环桥市场")
    page.get_by_label("通行开始日期").fill(start)
    page.get_by_label("通行结束日期").fill(end)
    page.get_by_label(re.compile("承诺书：我已阅读并承诺")).check()
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(sample_pdf("scan"))
    for material in ("营业执照", "机动车行驶证", "驾驶员驾驶证"):
        page.get_by_label(re.compile(f"^{material}")).set_input_files(str(scan))
    return start, end


def test_enterprise_applies_staff_approve_the_pass_verifies_from_its_qr(
    open_page, screens, tmp_path, live_server, settings
):
    for tool in ("pdftoppm", "zbarimg"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} missing: apt-get install poppler-utils zbar-tools")
    # The QR code holds the site's public address; here that is the live test server (it
    # runs in this process, so the setting reaches the view that renders the PDF).
    settings.TONGBAN_PUBLIC_URL = live_server.url
    ensure_world()
    ent = open_page(390)
    login(ent, "ent_demo")
    ent.goto("/matters/vehicle_pass/")
    screens.shot(ent, "matter-page")
    ent.get_by_role("link", name="在线申请").click()
    start, end = fill_pass(ent, tmp_path)
    screens.shot(ent, "form-filled")
    ent.get_by_role("button", name="提交").click()
    ent.wait_for_url(re.compile(r"/my/cases/\d+/"))
    case_id = int(re.search(r"/my/cases/(\d+)/", ent.url).group(1))
    case = Case.objects.get(pk=case_id)
    assert (case.state, case.data["plate_number"]) == ("review", "苏E12F34")
    assert [d["driver_name"] for d in case.data["drivers"]] == ["王建军", "刘海"]
    screens.shot(ent, "submitted")

    # Another town's economic office does not see it.
    outsider = open_page(1280)
    login(outsider, "econ_officer_weitang")
    assert outsider.goto(f"/work/cases/{case_id}/").status == 404

    staff_act(open_page, "econ_officer_yangchenghu", case_id, "审核通过，报区农业农村局", screens)
    assert Case.objects.get(pk=case_id).state == "approval"
    staff_act(open_page, "agri_approver_xiangcheng", case_id, "核发通行证", screens)
    cert = Certificate.objects.get(case_id=case_id)
    assert re.fullmatch(r"320507\d{6}", cert.number)

    ent.reload()
    screens.shot(ent, "issued")
    with ent.expect_download() as download:
        ent.get_by_role("link", name=re.compile("下载证照")).click()
    pdf = tmp_path / "pass.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    # The page as a reader sees it: rendered at 150 dpi, kept beside the screenshots.
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", pdf, screens.dir / "pdf"])
    png = screens.dir / "pdf.png"
    qr = subprocess.run(
        ["zbarimg", "--raw", "-q", png], capture_output=True, text=True, check=True
    ).stdout.strip()
    # The code is the verify address carrying the signed line, percent-encoded.
    address = f"{live_server.url}/verify/{cert.number}?sig="
    assert qr.startswith(address), qr
    signed_line = unquote(qr.removeprefix(address))
    assert signed_line.startswith(
        f"TB1|{cert.number}|vehicle_pass|苏州阳澄湖农产品有限公司|{start}|{end}|"
    )

    phone = open_page(390)  # anyone, not logged in, scanning the code: opens what it says
    phone.goto(qr)
    screens.shot(phone, "verified")
    assert phone.get_by_role("status").inner_text() == "有效"
    page = phone.locator("main").inner_text()
    assert "签名有效：二维码内容与登记信息一致" in page
    assert f"{start} 至 {end}" in page and "相城区农业农村局" in page
    assert "苏州阳澄湖农产品有限公司" not in page  # the holder is masked

    forged = qr.replace(f"%7C{end}%7C", f"%7C{quote('2099-12-31')}%7C")
    assert forged != qr
    phone.goto(forged)
    assert phone.get_by_role("status").inner_text() == "签名无效"

    # The issuing bureau revokes the pass from its case page (reason, confirmation).
    bureau = open_page(1280)
    login(bureau, "agri_approver_xiangcheng")
    bureau.goto(f"/work/cases/{case_id}/")
    bureau.get_by_text("撤销证照", exact=True).first.click()  # opens the form
    bureau.get_by_label("撤销理由").fill("车辆未按核定路线通行")
    bureau.get_by_label(re.compile("确认撤销")).check()
    screens.shot(bureau, "revoke-form")
    bureau.get_by_role("button", name="撤销证照").click()
    bureau.wait_for_url(re.compile(rf"/work/cases/{case_id}/$"))
    screens.shot(bureau, "revoked")
    assert f"已撤销证照 {cert.number}" in bureau.locator("main").inner_text()
    assert bureau.get_by_role("button", name="撤销证照").count() == 0

    phone.goto(qr)  # the same code, scanned again
    screens.shot(phone, "verified-revoked")
    assert phone.get_by_role("status").inner_text() == "已撤销"
    assert "撤销理由：车辆未按核定路线通行" in phone.locator("main").inner_text()
