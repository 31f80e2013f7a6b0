"""The resumption-rate figures on a known set, the report page and the demo build.
Times are fixed in March 2025, so the figures and certificate numbers are exact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client
from django.utils import timezone

from tests.packs.resumption import (
    MARCH,
    T0,
    XIANGCHENG,
    account,
    act,
    approved,
    file_enterprise,
    file_shop,
    uscc,
)
from tongban.services.audit import verify_all
from tongban.services.demo import DEMO_PASSWORD
from tongban.services.errors import Forbidden, NotFound
from tongban.services.reports import resumption
from tongban.store.models import Case, Certificate, Enterprise, Org

# -- the resumption rate ------------------------------------------------------------------

WEITANG, WEITANG_1, WEITANG_2 = "320507102", "320507102001", "320507102002"  # 渭塘社区, 凤凰泾村


@pytest.fixture
def known(users):
    """In 渭塘镇, March 2025. 渭塘社区: enterprise A has its receipt; B was refused once,
    then got its receipt and stopped reporting; shops S1, S2 reopened. 凤凰泾村: enterprise
    C is still in review; shop S3 (filed by the window) reopened, S4 waits, S5 refused."""
    reviewer = users.resumption_reviewer_weitang
    clerk1, clerk2 = users.clerk_weitang1, users.clerk_weitang2
    a, b = account("ent_a", "enterprise", WEITANG_1), account("ent_b", "enterprise", WEITANG_1)
    c = account("ent_c", "enterprise", WEITANG_2)
    s = [account(f"shop_s{i}", "person", WEITANG_1 if i < 3 else WEITANG_2) for i in range(1, 6)]

    def receipt(user, n):
        case = file_enterprise(user, n, org_code=None)
        act(case, clerk1, "accept", T0 + timedelta(hours=1))
        return act(case, reviewer, "approve", T0 + timedelta(hours=2))

    receipt(a, 11)
    act(file_enterprise(b, 12, org_code=None), clerk1, "refuse", comment="材料不全")
    act(receipt(b, 12), reviewer, "stop_reports", T0 + timedelta(days=2), comment="正常")
    act(file_enterprise(c, 13, org_code=None), clerk2, "accept", T0 + timedelta(hours=1))
    act(file_shop(s[0], 21), clerk1, "confirm")
    act(file_shop(s[1], 22), clerk1, "confirm")
    act(file_shop(clerk2, 23, on_behalf_of=s[2]), clerk2, "confirm")
    file_shop(s[3], 24)
    act(file_shop(s[4], 25), clerk2, "refuse", comment="非本村经营户")


FIGURES = (
    "ent_filings",
    "receipts",
    "ent_reopened",
    "ent_applicants",
    "shop_filings",
    "shop_reopened",
    "shop_applicants",
)


def figures(row) -> tuple:
    return tuple(getattr(row, k) for k in FIGURES) + (row.filed_rate,)


def test_rates_per_street_and_community_on_a_known_set(users, known):
    rates = resumption.resumption_rates(users.resumption_reviewer_weitang, period=MARCH)
    assert rates.scope.label == "渭塘镇" and len(rates.streets) == 1
    street = rates.streets[0]
    assert [c.name for c in street.children] == ["渭塘社区", "凤凰泾村"]
    assert figures(street.children[0]) == (3, 2, 2, 2, 2, 2, 2, 1.0)
    assert figures(street.children[1]) == (1, 0, 0, 1, 3, 1, 3, 0.25)
    assert figures(street) == (4, 2, 2, 3, 5, 3, 5, 0.625)
    assert figures(rates.total) == figures(street)
    assert (street.reopened, street.applicants, street.ent_filed_rate, street.shop_filed_rate) == (
        5,
        8,
        0.6667,
        0.6,
    )
    # The registry holds no enterprise here: no rate over the registered businesses.
    assert not street.in_registry and street.registered == 0
    assert (street.rate, street.ent_rate, street.shop_rate) == (None, None, None)
    assert "企业名录" in rates.basis and "提交过" in rates.filed_basis
    assert rates.chart_data()["names"] == ["渭塘社区", "凤凰泾村"]
    ids = list(Case.objects.filter(j_street=WEITANG).values_list("pk", flat=True))
    assert len(ids) == 9 and [f for _, f in verify_all(ids)] == [None] * 9


def test_rates_for_a_district_supervisor_and_other_scopes(users, known):
    rates = resumption.resumption_rates(users.supervisor_xiangcheng, period=MARCH)
    by_name = {r.name: r for r in rates.streets}
    assert list(by_name) == ["元和街道", "黄埭镇", "渭塘镇", "阳澄湖镇"]  # in code order
    assert figures(by_name["渭塘镇"]) == (4, 2, 2, 3, 5, 3, 5, 0.625)
    assert figures(by_name["阳澄湖镇"])[:-1] == (0,) * 7 and by_name["阳澄湖镇"].rate is None
    assert figures(rates.total) == figures(by_name["渭塘镇"])
    narrowed = resumption.resumption_rates(users.supervisor_xiangcheng, WEITANG_2, period=MARCH)
    assert [r.name for r in narrowed.streets] == ["凤凰泾村"]
    assert figures(narrowed.total) == (1, 0, 0, 1, 3, 1, 3, 0.25)
    with pytest.raises(NotFound):
        resumption.resumption_rates(users.resumption_reviewer_weitang, XIANGCHENG)
    with pytest.raises(Forbidden):
        resumption.resumption_rates(users.zhangsan)
    with pytest.raises(Forbidden):
        resumption.resumption_rates(users.clerk_weitang1)


def test_registered_counts_come_from_the_given_source(users, known):
    class Registry:
        basis = "企业名录在册户数"

        def counts(self, scope, columns):
            return {(): (10, 30), ("320507", WEITANG): (10, 30)}

    rates = resumption.resumption_rates(
        users.resumption_reviewer_weitang, period=MARCH, denominators=Registry()
    )
    assert rates.basis == "企业名录在册户数"
    assert (rates.total.reopened, rates.total.registered, rates.total.rate) == (5, 40, 0.125)
    assert rates.total.filed_rate == 0.625  # beside it, over those that filed
    assert rates.streets[0].children[0].rate is None  # no registry figure for the community
    # Both communities have reopened businesses the source does not cover.
    assert rates.streets[0].registry_gap and rates.total.registry_gap


def test_rate_of_the_reported_example():
    counts = {"ent_reopened": 28, "shop_reopened": 80, "ent_registered": 40, "shop_registered": 120}
    row = resumption.Row("", "", "", in_registry=True, **counts)
    assert (row.reopened, row.registered, row.rate) == (108, 160, 0.675)
    assert resumption.Row("", "", "", **counts).rate is None  # not from the registry: no rate


# -- over the enterprise registry ---------------------------------------------------------

_serial = iter(range(500_000, 600_000))


def register(org_code: str, **categories: int) -> None:
    """Registry records of the given 主体类型 (企业=3, 个体工商户=4…) at an org, in bulk
    like an import (which sets the jurisdiction columns and timestamps itself)."""
    org, now = Org.objects.get(code=org_code), timezone.now()
    Enterprise.objects.bulk_create(
        Enterprise(
            org=org,
            **org.jurisdiction(),
            name=f"名录测试{n}号",
            credit_code=uscc(n),
            category=category,
            created_at=now,
            updated_at=now,
        )
        for category, count in categories.items()
        for n in (next(_serial) for _ in range(count))
    )


def test_rates_over_the_registry_per_area_and_jurisdiction(users, known):
    """渭塘社区 has 4 enterprises (one a cooperative, one on a grid) and 4 shops on the
    registry, plus 2 social organisations that are not businesses; 凤凰泾村 has none; 湘城社区
    (another street) has 5 enterprises."""
    grid = Org.objects.filter(parent__code=WEITANG_1).values_list("code", flat=True).first()
    register(WEITANG_1, 企业=2, 农民专业合作社=1, 个体工商户=4, 社会组织=2)
    register(grid or WEITANG_1, 企业=1)
    register(XIANGCHENG, 企业=5)

    rates = resumption.resumption_rates(users.resumption_reviewer_weitang, period=MARCH)
    community, village = rates.streets[0].children
    assert (community.ent_registered, community.shop_registered) == (4, 4)
    assert (community.ent_rate, community.shop_rate, community.rate) == (0.5, 0.5, 0.5)
    assert community.filed_rate == 1.0 and not community.registry_gap
    # No records in 凤凰泾村: no rate over the registry, the filed-based one stays.
    assert not village.in_registry and village.rate is None and village.filed_rate == 0.25
    street = rates.streets[0]
    assert (street.reopened, street.registered, street.rate) == (5, 8, 0.625)
    assert street.registry_gap  # 凤凰泾村's reopened shop is above the line, not below
    assert rates.total.registered == 8  # 湘城社区's records are outside the reviewer's area
    page = login("resumption_reviewer_weitang").get(
        "/reports/resumption/", {"from": "2025-03-01", "to": "2025-03-31"}
    )
    html = page.content.decode()
    assert 'id="s-rate">62.5%<' in html and 'id="s-gap"' in html  # flagged as too high
    row = html[html.index('data-code="320507102002"') :]
    row = row[: row.index("</tr>")]
    assert "名录无记录" in row and "25.0%" in row  # 凤凰泾村: only the filed-based rate

    district = resumption.resumption_rates(users.supervisor_xiangcheng, period=MARCH)
    by_name = {r.name: r for r in district.streets}
    assert (by_name["阳澄湖镇"].ent_registered, by_name["阳澄湖镇"].ent_rate) == (5, 0.0)
    assert not by_name["元和街道"].in_registry and by_name["元和街道"].rate is None
    assert (district.total.reopened, district.total.registered) == (5, 13)
    assert district.total.rate == 0.3846 and district.total.registry_gap


@pytest.fixture
def reported(users):
    """The reports' example in 湘城社区: 28 enterprises and 80 shops reopened, out of 40
    enterprises and 120 shops on the registry. One of each goes through the service; the
    others are copies of those rows with their own applicants (the figures read only the
    case row)."""
    ent = approved(users, file_enterprise(account("ent_r0", "enterprise", XIANGCHENG)))
    shop = file_shop(
        users.clerk_yangchenghu1, on_behalf_of=account("shop_r0", "person", XIANGCHENG)
    )
    shop = act(shop, users.clerk_yangchenghu1, "confirm", T0 + timedelta(hours=1))
    owners = get_user_model().objects.bulk_create(
        get_user_model()(username=f"reported_{i}") for i in range(27 + 79)
    )
    copies = []
    for i, owner in enumerate(owners):
        copy = Case.objects.get(pk=(ent if i < 27 else shop).pk)
        copy.pk, copy.applicant, copy.created_by, copy.idempotency_key = None, owner, owner, None
        copies.append(copy)
    Case.objects.bulk_create(copies)
    register(XIANGCHENG, 企业=40, 个体工商户=120)


def test_rate_of_the_reported_example_over_the_registry(users, reported):
    rates = resumption.resumption_rates(users.resumption_reviewer_yangchenghu, period=MARCH)
    community = next(c for c in rates.streets[0].children if c.code == XIANGCHENG)
    for r in (community, rates.total):
        assert (r.ent_reopened, r.shop_reopened, r.ent_registered, r.shop_registered) == (
            28,
            80,
            40,
            120,
        )
        assert (r.rate, r.ent_rate, r.shop_rate) == (0.675, 0.7, 0.6667)
        assert r.filed_rate == 1.0  # every one that filed reopened: not the area's rate
    page = login("resumption_reviewer_yangchenghu").get("/reports/resumption/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="s-rate">67.5%<' in html
    assert "占企业名录在册企业 40 家、个体工商户 120 户（共 160 户）的 67.5%" in html
    assert "（企业 70.0%，个体工商户 66.7%）" in html and 'id="s-filed-rate">100.0%<' in html


# -- the page ------------------------------------------------------------------------------


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def test_report_page(users, known):
    client = login("resumption_reviewer_weitang")
    page = client.get("/reports/resumption/", {"from": "2025-03-01", "to": "2025-03-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "复工复产统计" in html and "vendor/echarts.min.js" in html
    assert "统计口径" in html and "复工复业率（按名录在册户数）" in html
    assert 'id="s-rate">—<' in html and "企业名录中没有本辖区的在册记录" in html
    assert 'id="s-filed-rate">62.5%<' in html and "已复工企业 2 家、复业个体工商户 3 户" in html
    assert 'data-code="320507102002"' in html and "25.0%" in html
    assert (
        login("resumption_reviewer_weitang")
        .get("/reports/resumption/", {"from": "2025-02-30"})
        .status_code
        == 400
    )
    assert (
        login("supervisor_xiangcheng").get("/reports/resumption/", {"org": WEITANG}).status_code
        == 200
    )
    assert client.get("/reports/resumption/", {"org": XIANGCHENG}).status_code == 404
    assert login("zhangsan").get("/reports/resumption/").status_code == 403
    assert Client().get("/reports/resumption/").status_code == 302  # to the login page


# -- the demo ------------------------------------------------------------------------------


def test_demo_build_makes_every_step_once(users):
    from tongban.services.demo_packs import resumption as demo

    mine = Case.objects.filter(matter_code__in=resumption.MATTERS)
    assert not mine.exists()  # the test world has accounts, not demo cases
    demo.build()
    count = mine.count()
    assert count == len(demo.ENTERPRISES) + len(demo.SHOPS)
    demo.build()
    assert mine.count() == count
    steps = set(mine.filter(matter_code=resumption.ENTERPRISE).values_list("state", flat=True))
    assert steps == {s for *_, s in demo.ENTERPRISES}
    on_behalf = mine.filter(matter_code=resumption.SHOP).exclude(created_by=F("applicant"))
    assert on_behalf.count() == 2
    reporting = mine.get(applicant=users.ent_demo)
    assert reporting.state == "reporting" and reporting.reports.filter(missed=False).exists()
    assert Certificate.objects.filter(case=reporting, key="resumption_receipt").exists()
    assert [f for _, f in verify_all(list(mine.values_list("pk", flat=True)))] == [None] * count
