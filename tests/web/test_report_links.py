"""The report pages of the catalog packs are linked where their users look — the navigation,
the supervision dashboard, the public portal, the case pages — and only for users who may
open them; each link answers 200 for them."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from tests.packs.mediation import agree, to_mediating
from tongban.services.reports import documents
from tongban.store.models import Case

NAV = {"复工复产统计": "/reports/resumption/", "居家就业收入": "/reports/home-work/"}
FOOD = "食品安全监督抽检结果公示"
AGREEMENT = "下载调解协议书 (PDF)"
_A = re.compile(r'<a\b[^>]*\bhref="([^"]*)"[^>]*>([^<]+)</a>')


def anchors(html: str) -> dict[str, str]:
    """{link text: href} of the page's links."""
    return {unescape(text).strip(): unescape(href) for href, text in _A.findall(html)}


def panel(html: str) -> str:
    """The 专项报表 panel of the supervision dashboard."""
    start = html.index('id="h-reports"')
    return html[start : html.index("</nav>", start)]


BOTH = set(NAV)


@pytest.mark.parametrize(
    ("username", "shown"),
    [
        ("resumption_reviewer_weitang", {"复工复产统计"}),
        ("disability_worker_yangchenghu", {"居家就业收入"}),
        ("supervisor_xiangcheng", BOTH),
        ("head_yangchenghu", BOTH),
        ("clerk_weitang1", set()),
        ("zhangsan", set()),
    ],
)
def test_nav_links_each_report_to_who_may_open_it(users, client, username, shown):
    client.force_login(getattr(users, username))
    links = anchors(client.get("/").content.decode())
    assert {text for text in NAV if text in links} == shown
    for text, url in NAV.items():
        if text in shown:
            assert links[text] == url and client.get(url).status_code == 200
        else:
            assert client.get(url).status_code == 403


def test_supervision_dashboard_lists_the_reports(users, client):
    client.force_login(users.supervisor_xiangcheng)
    html = client.get("/supervise/").content.decode()
    links = anchors(panel(html))
    assert "专项报表" in html
    # the supervisor's own district is chosen, and the reports open on it
    assert links == {
        "复工复产统计": "/reports/resumption/?org=320507",
        "居家就业收入": "/reports/home-work/?org=320507",
        FOOD: "/reports/food/",
    }
    assert all(client.get(url).status_code == 200 for url in links.values())
    # narrowed to a street, the reports open on the same street
    links = anchors(panel(client.get("/supervise/", {"org": "320507102"}).content.decode()))
    assert links["复工复产统计"] == "/reports/resumption/?org=320507102"
    assert links["居家就业收入"] == "/reports/home-work/?org=320507102"
    page = client.get(links["复工复产统计"])
    assert page.status_code == 200 and page.context["scope"].org.code == "320507102"
    assert client.get(links["居家就业收入"]).status_code == 200


def test_portal_home_links_the_public_food_list(world):
    for client in (Client(), _logged_in("zhangsan")):
        href = anchors(client.get("/").content.decode())[FOOD]
        assert href == "/reports/food/" and client.get(href).status_code == 200


def _logged_in(username: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_case_pages_offer_the_agreement_once_agreed(users, client):
    case = to_mediating(users)
    staff_page, own_page = f"/work/cases/{case.pk}/", f"/my/cases/{case.pk}/"
    pdf = f"/reports/mediation/{case.pk}/agreement.pdf"
    pages = ((users.mediator_yangchenghu, staff_page), (users.zhangsan, own_page))
    for user, page in pages:
        client.force_login(user)
        assert AGREEMENT not in client.get(page).content.decode()  # no agreement yet
    agree(users, case)
    for user, page in pages:
        client.force_login(user)
        assert anchors(client.get(page).content.decode())[AGREEMENT] == pdf
        response = client.get(pdf)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # a mediator of another street sees neither the case nor its agreement
    client.force_login(users.mediator_canglang)
    assert client.get(staff_page).status_code == 404 and client.get(pdf).status_code == 404
    # the documents come from the matter: other matters offer none
    assert documents.for_case(Case(matter_code="road_occupation")) == []


@pytest.mark.parametrize(
    ("username", "shown"),
    [
        ("dispatcher_xiangcheng", True),
        ("dept_transport_xiangcheng", True),
        ("clerk_weitang1", False),
        ("zhangsan", False),
    ],
)
def test_nav_links_the_request_pages_to_dispatchers_and_departments(users, client, username, shown):
    client.force_login(getattr(users, username))
    links = anchors(client.get("/").content.decode())
    assert ("诉求办理" in links) is shown
    if shown:
        assert links["诉求办理"] == "/requests/queue/"
        assert client.get("/requests/queue/").status_code == 200
    else:
        assert client.get("/requests/queue/").status_code == 403


def test_portal_home_lets_residents_raise_and_track_a_request(world):
    for client, form in ((Client(), 302), (_logged_in("zhangsan"), 200)):  # 302: to log in
        links = anchors(client.get("/").content.decode())
        assert links["反映诉求"] == "/requests/new/"
        assert client.get("/requests/new/").status_code == form
        assert client.get(links["查询诉求办理进度"]).status_code == 200
