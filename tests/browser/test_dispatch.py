"""Volunteer dispatch in the browser: a coordinator creates a demand set, adds demand
(HTMX, no page load), runs the plan, sees the unfilled demand with its reason, opens the
roster per site and per volunteer, and marks a volunteer dropped to see what changed."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.conftest import ensure_world
from tests.dispatch.world import place, volunteer
from tongban.store.models import Outbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KM = 0.009


def test_plan_then_roster_then_drop(open_page, screens):
    ensure_world()
    place("湘城采样点", 0, 0)
    volunteer("张志愿", 0.2 * KM, 0)
    volunteer("李志愿", 0.4 * KM, 0)
    volunteer("王志愿", 0.6 * KM, 0)

    page = open_page(1280)
    login(page, "clerk_yangchenghu")
    page.goto("/work/")
    page.get_by_role("link", name="志愿者调度").click()
    page.get_by_label("名称", exact=True).fill("4月11日核酸采样")
    page.get_by_role("button", name="新建").click()
    page.get_by_label("班次", exact=True).fill("2022-04-11 上午")
    page.get_by_label("岗位", exact=True).fill("信息录入")
    page.get_by_label("人数", exact=True).fill("4")
    page.get_by_role("button", name="添加需求").click()
    page.locator("#demand").get_by_text("2022-04-11 上午").wait_for()
    screens.shot(page, "demand")

    page.get_by_role("button", name="开始排班").click()
    page.get_by_text("排班完成").wait_for()
    unfilled = page.locator("#unfilled")
    assert "缺" in unfilled.inner_text() and "全部排满" in unfilled.inner_text()
    screens.shot(page, "plan")

    page.get_by_role("link", name="按站点的排班表").click()
    text = page.locator("main").inner_text()
    assert "湘城采样点" in text and "张志愿" in text and "缺 1 人" in text
    screens.shot(page, "roster-site")
    page.get_by_role("link", name="按志愿者").click()
    assert "王志愿" in page.locator("#by-volunteer").inner_text()
    with page.expect_download() as dl:
        page.get_by_role("link", name="下载 Excel").click()
    assert dl.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="← 返回排班").click()
    page.get_by_role("combobox", name="志愿者退出").select_option(index=0)
    page.get_by_role("button", name="标记退出并重新排班").click()
    page.get_by_text("已重新排班").wait_for()
    assert "取消" in page.locator("#changes").inner_text()
    screens.shot(page, "dropped")
    assert Outbox.objects.filter(topic="dispatch.assigned").count() == 3
    assert Outbox.objects.filter(topic="dispatch.cancelled").count() == 1
