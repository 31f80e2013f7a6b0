"""The routing table (派单规则) has a jurisdiction: supervisors change the rules of their own
district's streets and communities, platform admins (Django staff) the deployment-wide
rules and the whole table; everyone reads the rules that can apply in their seats."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook, load_workbook

from tongban.services import requests
from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.store.models import Org, RoutingRule

YANGCHENGHU = "320507103"  # 阳澄湖镇, 相城区
NANMEN = "320508"  # 姑苏区


@pytest.fixture
def admin(world):
    return get_user_model().objects.create_user("platform_admin", is_staff=True)


def rule(code: str | None, category="城乡建设", department="dept_construction"):
    org = Org.objects.get(code=code) if code else None
    return RoutingRule.objects.create(category=category, org=org, department=department)


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(requests.RULE_HEADERS))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def table(content: bytes) -> list[tuple]:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return [tuple(c or "" for c in r) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_supervisor_saves_rules_only_inside_their_district(users, admin):
    sup = users.supervisor_xiangcheng
    saved = requests.save_rule(sup, "城乡建设", YANGCHENGHU, "dept_environment", "试点")
    assert saved.org.code == YANGCHENGHU and saved.department == "dept_environment"
    with pytest.raises(Forbidden):  # another district's street
        requests.save_rule(users.supervisor_gusu, "城乡建设", YANGCHENGHU, "dept_health")
    with pytest.raises(Forbidden):  # deployment-wide: platform admins only
        requests.save_rule(sup, "城乡建设", "", "dept_health")
    with pytest.raises(Forbidden):  # not a supervisor at all
        requests.save_rule(users.dispatcher_xiangcheng, "城乡建设", YANGCHENGHU, "dept_health")
    assert RoutingRule.objects.get(org__code=YANGCHENGHU).department == "dept_environment"
    with pytest.raises(Invalid):  # bad input still says what is wrong
        requests.save_rule(sup, "无此类", YANGCHENGHU, "dept_health")
    wide = requests.save_rule(admin, "城乡建设", "", "dept_health")
    assert wide.org is None and wide.department == "dept_health"


def test_delete_answers_like_a_missing_rule_outside_the_jurisdiction(users, admin):
    theirs = rule(YANGCHENGHU)
    wide = RoutingRule.objects.filter(org__isnull=True).first()  # the demo table's
    assert wide is not None
    with pytest.raises(NotFound):  # 姑苏区 does not even read 阳澄湖镇's rules
        requests.delete_rule(users.supervisor_gusu, theirs.pk)
    with pytest.raises(Forbidden):  # read by everyone, changed by admins only
        requests.delete_rule(users.supervisor_gusu, wide.pk)
    with pytest.raises(NotFound):
        requests.delete_rule(users.supervisor_xiangcheng, 10**9)
    assert RoutingRule.objects.filter(pk__in=[theirs.pk, wide.pk]).count() == 2
    requests.delete_rule(users.supervisor_xiangcheng, theirs.pk)
    requests.delete_rule(admin, wide.pk)
    assert not RoutingRule.objects.filter(pk__in=[theirs.pk, wide.pk]).exists()


def test_users_read_the_rules_that_can_apply_in_their_seats(users, admin):
    xiangcheng = rule(YANGCHENGHU)
    gusu = rule(NANMEN, department="dept_health")
    wide = set(RoutingRule.objects.filter(org__isnull=True).values_list("pk", flat=True))
    seen = {r.pk for r in requests.visible_rules(users.supervisor_gusu)}
    assert gusu.pk in seen and xiangcheng.pk not in seen and wide <= seen
    # a street's head reads the rules of the district above too
    head = {r.pk for r in requests.visible_rules(users.head_yangchenghu)}
    assert xiangcheng.pk in head and gusu.pk not in head
    exported = table(requests.export_rules(users.supervisor_gusu))
    assert NANMEN in {r[1] for r in exported} and YANGCHENGHU not in {r[1] for r in exported}
    assert len(table(requests.export_rules(admin))) == RoutingRule.objects.count()


def test_supervisor_import_replaces_only_their_own_rules(users):
    other = rule(YANGCHENGHU)
    own = rule(NANMEN, department="dept_health")
    sup = users.supervisor_gusu
    exported = table(requests.export_rules(sup))
    changed = [r for r in exported if r[1] != NANMEN] + [("城乡建设", NANMEN, "生态环境局", "")]
    assert requests.import_rules(sup, xlsx(changed)) == 1
    assert RoutingRule.objects.get(org__code=NANMEN).department == "dept_environment"
    assert not RoutingRule.objects.filter(pk=own.pk).exists()
    assert RoutingRule.objects.filter(pk=other.pk, department="dept_construction").exists()
    before = set(RoutingRule.objects.values_list("category", "org_id", "department"))
    # changing a deployment-wide rule, or another district's: the whole file is refused
    wide = [
        ("卫生计生", "", "住房和城乡建设局", "") if r[:2] == ("卫生计生", "") else r
        for r in exported
    ]
    assert wide != exported
    for bad in (
        wide,
        [("城乡建设", YANGCHENGHU, "卫生健康委员会", "")],
    ):
        with pytest.raises(Invalid) as err:
            requests.import_rules(sup, xlsx(bad))
        assert "不在您的督办范围内" in err.value.fields["file"]
    with pytest.raises(Forbidden):
        requests.import_rules(users.dispatcher_gusu, xlsx(exported))
    assert set(RoutingRule.objects.values_list("category", "org_id", "department")) == before


def test_admin_import_replaces_the_whole_table(users, admin):
    rule(YANGCHENGHU)
    n = requests.import_rules(admin, xlsx([("城乡建设", "", "住房和城乡建设局", "全市")]))
    assert n == 1 and RoutingRule.objects.count() == 1
    assert requests.department_for("城乡建设", Org.objects.get(code=YANGCHENGHU)) == (
        "dept_construction"
    )


def test_routing_page_offers_delete_only_for_rules_the_user_may_change(users):
    from django.test import Client

    rule(NANMEN, department="dept_health")
    c = Client()
    c.force_login(users.supervisor_gusu)
    html = c.get("/requests/routing/").content.decode()
    assert html.count('name="delete"') == RoutingRule.objects.filter(org__code=NANMEN).count()
    assert "平台管理员设置" in html
    r = c.post(
        "/requests/routing/", {"category": "城乡建设", "org": "", "department": "dept_health"}
    )
    assert r.status_code == 403 and "平台管理员" in r.content.decode()
