"""The 诉求 dashboard's numbers, computed from requests whose fate the test knows: volume by
category and by grid (the heat map), response, resolution and satisfaction rates, and the
most repeated problems."""

from __future__ import annotations

import pytest

from tongban.services import requests, stats
from tongban.services.cases import ActRequest, act
from tongban.services.reports import requests as report

LAMP = "湘城社区北门路灯坏了一个多星期，晚上漆黑一片，老人出门很不安全，请尽快修复"
NOISE = "湘城大街夜间渣土车噪音很大，影响休息，请环保部门查处"


@pytest.fixture
def unsure(monkeypatch):
    monkeypatch.setattr(requests.classifier, "classify", lambda text: (None, 0.0, False))


def file(users, text, address="阳澄湖镇湘城社区北门"):
    raw = {"request_type": "求助", "content": text, "address": address}
    return requests.intake(users.zhangsan, {**raw, "contact_phone": "13812345678"})


def step(case, user, action, comment="", **data):
    return act(case.pk, user, ActRequest(action=action, comment=comment, data=data))


def test_dashboard_counts_what_happened(users, unsure):
    dispatcher = users.dispatcher_xiangcheng
    dept = users.dept_construction_xiangcheng
    lamp = file(users, LAMP)
    repeat = file(users, LAMP)  # the same lamp again: a "me too"
    closed_unhappy = file(users, "湘城社区3幢楼道灯不亮，物业一直不修，希望住建部门督促")
    waiting = file(users, "湘城社区东门人行道地砖松动，下雨天踩上去溅一身水")
    noise = file(users, NOISE, address="阳澄湖镇湘城大街")
    withdrawn = file(users, "想问一下小区加装电梯的补贴政策", address="")

    for case, rating in ((lamp, "满意"), (closed_unhappy, "不满意")):
        requests.dispatch(case.pk, dispatcher, "城乡建设")
        step(case, dept, "accept")
        step(case, dept, "reply", "已修复")
        step(case, dispatcher, "callback", satisfaction=rating)
    requests.dispatch(waiting.pk, dispatcher, "城乡建设")  # not yet signed for
    requests.dispatch(noise.pk, dispatcher, "环境保护", "dept_environment")
    step(noise, users.dept_environment_xiangcheng, "accept")
    step(withdrawn, users.zhangsan, "withdraw")

    scope = report.scope_for(users.supervisor_xiangcheng)
    d = report.dashboard(scope, stats.period())
    assert d.total == 6
    assert {r["name"]: r["n"] for r in d.by_category} == {
        "城乡建设": 3,  # lamp, closed_unhappy, waiting
        "环境保护": 1,
        report.UNCLASSIFIED: 2,  # the repeat (never dispatched) and the withdrawn one
    }
    # 响应率: of the 4 that reached a department, 3 were signed for in time.
    assert (d.response["dispatched"], d.response["on_time"], d.response["rate"]) == (4, 3, 0.75)
    # 办结率: 2 completed of the 5 not withdrawn.
    assert (d.resolution["completed"], d.resolution["counted"]) == (2, 5)
    assert d.resolution["rate"] == 0.4
    # 满意率: 满意 and 非常满意 among the rated.
    assert (d.satisfaction["satisfied"], d.satisfaction["rated"]) == (1, 2)
    assert d.satisfaction["rate"] == 0.5
    # 高频问题: the lamp, reported twice.
    assert [(r["case"].pk, r["reports"]) for r in d.recurring] == [(lamp.pk, 2)]
    assert repeat.pk not in {r["case"].pk for r in d.recurring}
    # the heat map: one row per place, one column per category, the counts in the cells
    heat = d.heat
    row = heat["y"].index("湘城社区")
    column = heat["x"].index("城乡建设")
    assert [c for c in heat["cells"] if c[:2] == [column, row]][0][2] == 3
    assert heat["max"] == 3 and sum(c[2] for c in heat["cells"]) == 6

    # another district's supervisor sees none of it
    gusu = report.dashboard(report.scope_for(users.supervisor_gusu), stats.period())
    assert gusu.total == 0 and gusu.recurring == []
