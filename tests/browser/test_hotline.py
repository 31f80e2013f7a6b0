"""The 12345 hotline operator screen: while the operator types, similar open requests in the
district appear beside the form (HTMX, no page load); the call is registered with the
caller's number, linked to the open request it repeats, the operator reads out the query
code, and the form is empty for the next call. Then the dispatcher merges the repeat on the
request page and the original shows one "me too"."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login
from tests.conftest import ensure_world
from tongban.services import requests
from tongban.store.models import Case, RequestLink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPEN = "湘城大街18号门前路灯坏了三天了，晚上很黑，老人走路容易摔倒"


def test_operator_sees_similar_requests_while_typing_and_registers_the_call(
    open_page, screens, monkeypatch
):
    ensure_world()
    # The classifier abstains, so both requests wait in the dispatcher queue.
    monkeypatch.setattr(requests.classifier, "classify", lambda text: (None, 0.0, False))
    from django.contrib.auth import get_user_model

    zhang = get_user_model().objects.get(username="zhangsan")
    original = requests.intake(
        zhang, {"request_type": "投诉", "content": OPEN, "address": "湘城大街18号"}
    )

    page = open_page(1280)
    login(page, "dispatcher_xiangcheng")
    page.goto("/requests/hotline/")
    assert page.get_by_label("诉求内容").evaluate("el => el === document.activeElement")
    screens.shot(page, "empty")

    page.get_by_label("来电号码").fill("13912345678")
    page.get_by_label("来电人称呼").fill("王女士")
    page.get_by_label("投诉").check()
    page.get_by_label("事发地址").fill("阳澄湖镇湘城大街18号门口")
    page.get_by_label("诉求内容").press_sequentially(
        "湘城大街18号的路灯坏了好几天，晚上很黑", delay=15
    )
    similar = page.locator(f'#similar [data-similar="{original.pk}"]')
    similar.wait_for(timeout=10_000)
    assert "诉求" in similar.inner_text() and page.url.endswith("/requests/hotline/")
    screens.shot(page, "similar-while-typing")

    page.get_by_role("button", name="登记").click()
    page.wait_for_load_state()
    message = page.locator(".messages li").first.inner_text()
    assert re.search(r"已登记诉求 \d+", message) and "查询码" in message
    assert f"疑似与诉求 {original.pk} 重复" in message
    assert page.get_by_label("诉求内容").input_value() == ""  # ready for the next call
    screens.shot(page, "registered")

    call = Case.objects.filter(matter_code="citizen_request").exclude(pk=original.pk).get()
    assert call.data["channel"] == "热线" and call.data["contact_phone"] == "13912345678"
    assert call.org.name == "阳澄湖镇" and requests.token_of(call) in message
    assert RequestLink.objects.get(request=call).original_id == original.pk

    # The dispatcher merges the repeat into the open request.
    page.goto(f"/requests/{call.pk}/")
    page.get_by_role("button", name="并案").click()
    page.wait_for_load_state()
    assert "已并案" in page.locator(".messages li").first.inner_text()
    page.goto(f"/requests/{original.pk}/")
    assert page.locator("#me-too-count").inner_text() == "附议 1 人"
    screens.shot(page, "original-with-me-too")

    # Escaped, not executed: markup typed into the screen shows as text.
    page.goto("/requests/hotline/")
    page.get_by_label("诉求内容").fill("<img src=x onerror=\"document.title='pwned'\">路灯不亮")
    page.get_by_label("咨询").check()
    page.get_by_role("button", name="登记").click()
    page.wait_for_load_state()
    newest = Case.objects.filter(matter_code="citizen_request").latest("pk")
    page.goto(f"/requests/{newest.pk}/")
    assert "<img" in page.locator("#request-content").inner_text()
    assert page.title() != "pwned"
