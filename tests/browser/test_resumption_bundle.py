"""企业复工一件事 in the browser, on a phone: an enterprise fills one merged form with three
returning employees (rows added with 「＋ 再加一行」), the supplies it needs and each
material once, and submits once. The status page shows the filing, a group of three
passes waiting for it, and the supplies request. Staff approve the filing on the
workbench; the passes start carrying the receipt number; the epidemic office sees only a
pass's own fields and cannot issue one to an employee who declared a fever. A bad ID
number in row 3 is reported on row 3 and keeps everything typed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import NamedTuple

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.browser.conftest import login
from tests.browser.test_application_flow import staff_act
from tests.conftest import ensure_world
from tongban.services import cases
from tongban.services.demo import sample_pdf
from tongban.services.demo_packs import resumption_bundle as demo
from tongban.store.models import Bundle, BundleItem, Case, Certificate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPANY = "苏州阳澄湖农产品有限公司"
DELIVERY = "阳澄湖镇湘城工业园 18 号东门门卫室"  # asked only by the supplies request


class Employee(NamedTuple):
    name: str
    id_no: str
    phone: str
    home: str
    commute: str
    route: str
    health: str
    temperature: str
    travelled: str  # 是 / 否


EMPLOYEES = [
    Employee("王建华", demo.id_number(1), "13905120001", "湘城社区 3 幢", "自驾",
             "湘城社区—澄阳路—工业园", "健康", "36.5", "否"),
    Employee("李秀兰", demo.id_number(2), "13905120002", "消泾村 12 号", "公共交通",
             "消泾村—湘城大街—工业园", "有发热、咳嗽等症状", "37.9", "否"),
    Employee("张伟", demo.id_number(3), "13905120003", "湘城社区 8 幢", "企业班车",
             "湘城社区—阳澄湖大道—工业园", "健康", "36.2", "否"),
]  # fmt: skip
MATERIALS = [
    "复工承诺书",
    "复工方案",
    "疫情防控应急预案",
    "防疫物资清单",
    "防控设施情况",
    "营业执照",
]
CLERK, REVIEWER = "clerk_yangchenghu1", "resumption_reviewer_yangchenghu"
ECON, EPIDEMIC = "econ_officer_yangchenghu", "epidemic_officer_yangchenghu"


def fill_company(page) -> dict[str, str]:
    today = timezone.localdate()
    dates = {
        "resume": (today + timedelta(days=2)).isoformat(),
        "valid_to": (today + timedelta(days=30)).isoformat(),
        "needed_by": (today + timedelta(days=1)).isoformat(),
    }
    page.get_by_label("企业名称").fill(COMPANY)
    page.get_by_label("统一社会信用代码").fill(demo.uscc(41))
    page.get_by_label("联系人").fill("孙经理")
    page.get_by_label("联系电话").fill("13812340041")
    page.get_by_label("生产经营地址").fill("阳澄湖镇湘城工业园 18 号")
    page.get_by_label("所属行业").select_option("农林牧渔")
    page.get_by_label("职工总数").fill("45")
    page.get_by_label("首批返岗人数").fill("3")
    page.get_by_label("计划复工日期").fill(dates["resume"])
    page.get_by_label("通行结束日期").fill(dates["valid_to"])
    page.get_by_label(re.compile("健康申报承诺：我已阅读并承诺")).check()
    page.get_by_label("配送地址").fill(DELIVERY)
    page.get_by_label("需要送达日期").fill(dates["needed_by"])
    page.get_by_label(re.compile("使用承诺：我已阅读并承诺")).check()
    return dates


def shot(screens, page, label: str) -> None:
    """A full-page screenshot resizes the viewport, and Chromium then scrolls a focused
    input back into view on the next click (as for an on-screen keyboard): the click
    after it would land elsewhere. A user who has finished typing has left the field."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    screens.shot(page, label)


def employee_rows(page):
    table = page.locator("fieldset", has=page.locator("legend", has_text="返岗员工")).first
    return table.locator("fieldset.row")


def fill_employees(page, people: list[Employee]) -> None:
    rows = employee_rows(page)
    for i, e in enumerate(people):
        if i:
            page.get_by_role("button", name="＋ 再加一行").first.click()
        assert rows.count() == i + 1
        row = rows.nth(i)
        assert row.locator("legend").first.inner_text() == f"第{i + 1}行"
        row.get_by_label("员工姓名").fill(e.name)
        row.get_by_label("员工身份证号码").fill(e.id_no)
        row.get_by_label("员工手机号码").fill(e.phone)
        row.get_by_label("现居住地址").fill(e.home)
        row.get_by_label(e.commute).check()
        row.get_by_label("通勤路线").fill(e.route)
        row.locator("fieldset", has_text="健康状况").get_by_label(e.health, exact=True).check()
        row.get_by_label("今日体温").fill(e.temperature)
        row.locator("fieldset", has_text="中高风险地区").get_by_label(e.travelled).check()


def fill_supplies(page) -> None:
    table = page.locator("fieldset", has=page.locator("legend", has_text="申请物资")).first
    for i, (item, qty) in enumerate([("医用外科口罩", "84"), ("含氯消毒液", "20")]):
        if i:
            table.get_by_role("button", name="＋ 再加一行").click()
        row = table.locator("fieldset.row").nth(i)
        row.get_by_label("物资").select_option(item)
        row.get_by_label("数量").fill(qty)


def upload_materials(page, tmp_path) -> None:
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(sample_pdf("scan"))
    for name in MATERIALS:
        page.get_by_label(re.compile(f"^{name}")).set_input_files(str(pdf))


def open_form(page):
    page.goto("/matters/?category=一件事")
    page.get_by_role("link", name="企业复工一件事").click()
    page.get_by_role("link", name="一次申请").click()
    page.wait_for_load_state()


def test_resumption_bundle_on_a_phone(open_page, screens, tmp_path):
    ensure_world()
    demo.ensure_accounts()  # the epidemic office's accounts
    phone = open_page(390)
    login(phone, "ent_demo")
    open_form(phone)
    dates = fill_company(phone)
    fill_employees(phone, EMPLOYEES)
    # an added row keeps its options' values: only the choice was cleared
    row3 = employee_rows(phone).nth(2)
    assert row3.get_by_label("自驾").get_attribute("value") == "自驾"
    assert row3.locator("input[type=radio][value=true]").count() == 1
    fill_supplies(phone)
    upload_materials(phone, tmp_path)
    shot(screens, phone, "merged-form")
    assert phone.get_by_label("企业名称").count() == 1  # asked once for all three matters
    phone.get_by_role("button", name="一次提交").click()
    phone.wait_for_url(re.compile(r"/my/bundles/\d+/"))
    bundle = Bundle.objects.get(pk=int(re.search(r"/my/bundles/(\d+)/", phone.url).group(1)))
    screens.shot(phone, "status")

    # one submission: a filing, a supplies request, three passes waiting for the filing
    assert Bundle.objects.filter(applicant__username="ent_demo").count() == 1
    items = {(i.key, i.row): i for i in bundle.items.select_related("case")}
    assert sorted(items) == [("filing", 0), ("passes", 0), ("passes", 1), ("passes", 2),
                             ("supplies", 0)]  # fmt: skip
    assert {items[("passes", r)].status for r in range(3)} == {BundleItem.WAITING}
    answers = bundle.answers["employees"]
    assert [a["employee_name"] for a in answers] == [e.name for e in EMPLOYEES]
    assert [a["commute_mode"] for a in answers] == ["自驾", "公共交通", "企业班车"]
    assert [a["health_status"] for a in answers] == [e.health for e in EMPLOYEES]
    assert [a["travel_history"] for a in answers] == [False, False, False]
    filing, supplies = items[("filing", 0)].case, items[("supplies", 0)].case
    assert filing.data["resume_date"] == dates["resume"]
    assert [r["supply_item"] for r in supplies.data["supplies_needed"]] == [
        "医用外科口罩",
        "含氯消毒液",
    ]
    # each material once, shared by the items that need it
    assert sorted(filing.materials) == [
        "commitment_letter", "emergency_plan", "facilities", "resumption_plan", "supplies_list"
    ]  # fmt: skip
    assert list(supplies.materials) == ["business_licence"]

    status = phone.locator("main")
    assert status.get_by_role("link", name="企业复工复产备案").is_visible()
    assert status.get_by_role("link", name="复工企业防疫物资申请").is_visible()
    group = status.locator("tr.group", has_text="复工企业员工通行证").inner_text()
    assert "共 3 件：等待前置事项 3" in group and "全部在前置事项办结后自动发起" in group, group
    phone.get_by_text("逐人查看（3 件）").click()
    shot(screens, phone, "status-passes")
    for e in EMPLOYEES:
        assert status.get_by_text(e.name, exact=True).is_visible()
    waiting = status.get_by_text("等待前置事项办结后自动发起", exact=True)
    assert waiting.count() == 3 and all(w.is_visible() for w in waiting.all())

    # The community window accepts, the street's task force approves: the receipt.
    staff_act(open_page, CLERK, filing.pk, "受理", screens)
    staff_act(open_page, REVIEWER, filing.pk, "同意复工，出具回执", screens)
    receipt = Certificate.objects.get(case_id=filing.pk).number
    assert re.fullmatch(r"复工〔\d{4}〕\d{5}", receipt)
    passes = [
        BundleItem.objects.select_related("case").get(bundle=bundle, key="passes", row=r).case
        for r in range(3)
    ]
    assert [p.data["resumption_receipt_no"] for p in passes] == [receipt] * 3
    assert [p.data["employee_name"] for p in passes] == [e.name for e in EMPLOYEES]
    assert [p.data["valid_from"] for p in passes] == [dates["resume"]] * 3
    # each pass holds its own row's answers, typed once each on the phone
    assert [(p.data["employee_id"], p.data["employee_phone"]) for p in passes] == [
        (e.id_no, e.phone) for e in EMPLOYEES
    ]
    assert [p.data["commute_mode"] for p in passes] == [e.commute for e in EMPLOYEES]
    assert [p.data["health_status"] for p in passes] == [e.health for e in EMPLOYEES]
    assert [p.data["body_temperature"] for p in passes] == [float(e.temperature) for e in EMPLOYEES]
    assert [p.data["travel_history"] for p in passes] == [False] * 3
    phone.reload()
    screens.shot(phone, "status-passes-started")
    assert phone.get_by_text("等待前置事项办结后自动发起").count() == 0

    # The economic office's review adds nothing the browser shows: the service layer.
    econ = get_user_model().objects.get(username=ECON)
    for p in passes:
        cases.act(p.pk, econ, cases.ActRequest(action="pass_review"))

    epidemic = open_page(390)
    login(epidemic, EPIDEMIC)
    epidemic.goto("/work/")
    screens.shot(epidemic, "epidemic-worklist")
    rows = epidemic.locator("table.list tbody tr")
    assert rows.count() == 3  # the three passes; not the filing, not the supplies
    assert all("复工企业员工通行证" in r for r in rows.all_inner_texts())
    for other in (filing, supplies):
        assert epidemic.goto(f"/work/cases/{other.pk}/").status == 404

    epidemic.goto(f"/work/cases/{passes[0].pk}/")
    screens.shot(epidemic, "epidemic-pass")
    page = epidemic.locator("main").inner_text()
    first, *others = EMPLOYEES
    assert first.name in page and first.route in page and receipt in page
    assert all(e.name not in page for e in others)  # only this employee's row
    not_needed = (
        DELIVERY,
        "申请物资",
        "医用外科口罩",
        "职工总数",
        "所属行业",
        "农林牧渔",
        "复工承诺书",
    )
    for not_theirs in not_needed:
        assert not_theirs not in page, not_theirs
    epidemic.get_by_role("button", name="核验通过，核发通行证").click()
    epidemic.wait_for_load_state()
    assert Case.objects.get(pk=passes[0].pk).state == "issued"

    # The employee who declared a fever: no issue button, only sent back or refused.
    epidemic.goto(f"/work/cases/{passes[1].pk}/")
    screens.shot(epidemic, "epidemic-fever")
    assert epidemic.get_by_role("button", name="核验通过，核发通行证").count() == 0
    assert epidemic.get_by_role("button", name="退回补正").count() == 1
    form = epidemic.locator("form", has=epidemic.get_by_role("button", name="不予核发"))
    form.get_by_label(re.compile("意见")).fill("申报体温 37.9℃、有咳嗽症状，请先到发热门诊排查")
    form.get_by_role("button", name="不予核发").click()
    epidemic.wait_for_load_state()
    assert Case.objects.get(pk=passes[1].pk).state == "refused"

    phone.reload()
    screens.shot(phone, "status-after-epidemic")
    group = phone.locator("tr.group", has_text="复工企业员工通行证").inner_text()
    assert "已办结 1" in group and "未通过 1" in group, group


def test_bad_id_in_row_three_is_shown_on_that_row_and_keeps_everything(
    open_page, screens, tmp_path
):
    ensure_world()
    phone = open_page(390)
    login(phone, "ent_demo")
    open_form(phone)
    fill_company(phone)
    good_id = EMPLOYEES[2].id_no
    bad_id = good_id[:-1] + ("1" if good_id[-1] == "0" else "0")  # wrong check digit
    people = [*EMPLOYEES[:2], EMPLOYEES[2]._replace(id_no=bad_id)]
    fill_employees(phone, people)
    fill_supplies(phone)
    upload_materials(phone, tmp_path)
    phone.get_by_role("button", name="一次提交").click()
    phone.wait_for_load_state()
    shot(screens, phone, "bad-id")
    assert phone.url.endswith("/bundles/resumption/apply/")
    assert Bundle.objects.count() == 0 and Case.objects.count() == 0  # nothing at all

    rows = employee_rows(phone)
    assert rows.count() == 3
    cell = rows.nth(2).get_by_label("员工身份证号码")
    assert cell.get_attribute("aria-invalid") == "true"
    error = rows.nth(2).locator(".error")
    assert error.count() == 1 and re.search("[\u4e00-\u9fff]", error.inner_text())
    assert error.get_attribute("id") == cell.get_attribute("aria-describedby")
    assert "校验" in error.inner_text(), error.inner_text()
    # the table says which row too; the other rows and their cells are not marked
    table_error = phone.locator("#id_f-employees-error").inner_text()
    assert "第3行 员工身份证号码" in table_error
    for i in (0, 1):
        assert rows.nth(i).locator(".error, [aria-invalid]").count() == 0
    # everything typed is still there, row by row, and each material is kept
    for row, e in zip(rows.all(), people, strict=True):
        assert row.get_by_label("员工姓名").input_value() == e.name
        assert row.get_by_label("员工身份证号码").input_value() == e.id_no
        assert row.get_by_label("员工手机号码").input_value() == e.phone
        assert row.get_by_label("现居住地址").input_value() == e.home
        assert row.get_by_label(e.commute).is_checked()
        assert row.get_by_label("通勤路线").input_value() == e.route
        health = row.locator("fieldset", has_text="健康状况")
        assert health.get_by_label(e.health, exact=True).is_checked()
        assert float(row.get_by_label("今日体温").input_value()) == float(e.temperature)
        travel = row.locator("fieldset", has_text="中高风险地区")
        assert travel.get_by_label(e.travelled).is_checked()
    assert phone.get_by_label("配送地址").input_value() == DELIVERY
    assert phone.get_by_label("职工总数").input_value() == "45"
    assert phone.get_by_text("已上传：scan.pdf").count() == len(MATERIALS)

    # A row added now copies none of row 3's error marks; left empty, it is ignored.
    phone.get_by_role("button", name="＋ 再加一行").first.click()
    row4 = rows.nth(3)
    assert row4.locator("legend").first.inner_text() == "第4行"
    assert row4.locator(".error, .has-error, [aria-invalid], [aria-describedby]").count() == 0
    assert row4.get_by_label("员工身份证号码").input_value() == ""
    assert row4.get_by_label("企业班车").get_attribute("value") == "企业班车"
    assert row4.locator("input[type=radio]:checked").count() == 0

    # Corrected and sent; the phone loses the answer and sends the same form again (as
    # a second tap on a slow connection does): still one bundle, one set of cases.
    cell.fill(good_id)
    phone.route("**/bundles/resumption/apply/", send_twice)
    phone.get_by_role("button", name="一次提交").click()
    phone.wait_for_url(re.compile(r"/my/bundles/\d+/"))
    shot(screens, phone, "corrected")
    bundle = Bundle.objects.get()
    assert bundle.items.filter(key="passes").count() == 3
    assert Case.objects.filter(bundle=bundle).count() == 2  # the filing and the supplies


def send_twice(route) -> None:
    if route.request.method != "POST":
        route.continue_()
        return
    route.fetch(max_redirects=0)  # its answer never reaches the phone
    route.fulfill(response=route.fetch(max_redirects=0))
