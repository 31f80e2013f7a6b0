"""Repeated requests: linked when close in text, place (N metres) and time (M days) within a
category; the "me too" count; merge (answered with the original) and split; merged requests
split out again when the original ends without an answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tongban.services import duplicates, requests
from tongban.services.cases import ActRequest, act
from tongban.services.errors import Conflict, Forbidden
from tongban.store.models import Case, RequestLink

LAMP = "湘城大街18号门前路灯坏了三天了，晚上很黑，老人走路容易摔倒"
LAMP2 = "湘城大街18号的路灯坏了好几天，晚上很黑，走路不安全"
ROOF = "小区楼顶漏水，雨天屋内墙体发霉，物业和开发商互相推诿"
HERE = {"lat": 31.4300, "lng": 120.7000}


def near(metres: float) -> dict:
    return {"lat": HERE["lat"] + metres / 111_195, "lng": HERE["lng"]}


@pytest.fixture
def unsure(monkeypatch):
    monkeypatch.setattr(requests.classifier, "classify", lambda text: (None, 0.0, False))


def file(user, text, category="交通运输", **data):
    return requests.intake(
        user, {"request_type": "投诉", "content": text, **data}, category=category
    )


def test_similarity_and_distance():
    assert duplicates.similarity(LAMP, LAMP2) >= duplicates.TEXT_THRESHOLD
    assert duplicates.similarity(LAMP, ROOF) < duplicates.TEXT_THRESHOLD
    assert duplicates.similarity("", LAMP) == 0
    assert abs(duplicates.distance_m(HERE, near(150)) - 150) < 1


def test_close_in_text_place_and_time_is_linked(users, unsure):
    first = file(users.zhangsan, LAMP, position=HERE)
    second = file(users.lisi, LAMP2, position=near(120), org_code="320507103001")
    link = RequestLink.objects.get(request=second)
    assert link.original_id == first.pk and link.status == "linked"
    assert 100 < link.distance_m < 140 and link.similarity >= duplicates.TEXT_THRESHOLD
    assert duplicates.me_too_counts([first.pk]) == {first.pk: 1}
    # a third report links to the same original, never to the repeat
    third = file(users.zhangsan, LAMP2 + "，请尽快修", position=near(60))
    assert RequestLink.objects.get(request=third).original_id == first.pk
    assert duplicates.me_too_counts([first.pk]) == {first.pk: 2}


@pytest.mark.parametrize(
    ("text", "place", "category", "why"),
    [
        (ROOF, near(50), "交通运输", "different text"),
        (LAMP2, near(260), "交通运输", "too far for 交通运输 (200 m)"),
        (LAMP2, near(50), "城乡建设", "another category"),
    ],
)
def test_not_linked(users, unsure, text, place, category, why):
    file(users.zhangsan, LAMP, position=HERE)
    other = file(users.zhangsan, text, category=category, position=place)
    assert not RequestLink.objects.filter(request=other).exists(), why


def test_too_old_or_closed_is_not_an_original(users, unsure):
    first = file(users.zhangsan, LAMP, position=HERE)
    rule = duplicates.rule_for("交通运输")
    Case.objects.filter(pk=first.pk).update(
        submitted_at=first.submitted_at - timedelta(days=rule.days + 1)
    )
    assert not RequestLink.objects.filter(
        request=file(users.zhangsan, LAMP2, position=HERE)
    ).exists()
    closed = file(users.zhangsan, ROOF, category="城乡建设", address="湘城社区5幢")
    act(closed.pk, users.zhangsan, ActRequest(action="withdraw"))
    again = file(users.zhangsan, ROOF, category="城乡建设", address="阳澄湖镇湘城社区5幢")
    assert not RequestLink.objects.filter(request=again).exists()


def test_phone_calls_match_by_address(users, unsure):
    first = file(users.zhangsan, LAMP, address="湘城大街18号")
    call = requests.intake(
        users.dispatcher_xiangcheng,
        {"request_type": "投诉", "content": LAMP2, "address": "阳澄湖镇湘城大街18号门口"},
        channel="hotline",
        org_code="320507",
        category="交通运输",
    )
    assert RequestLink.objects.get(request=call).original_id == first.pk
    elsewhere = file(users.zhangsan, LAMP2, address="湘城大街28号")
    assert not RequestLink.objects.filter(request=elsewhere).exists()


def test_merge_follows_the_original_reply(users, unsure):
    original = file(users.zhangsan, LAMP, position=HERE)
    repeat = file(users.lisi, LAMP2, position=near(30), org_code="320507103001")
    dispatcher, dept = users.dispatcher_xiangcheng, users.dept_transport_xiangcheng
    with pytest.raises(Forbidden):
        duplicates.merge(repeat.pk, dept)
    merged = duplicates.merge(repeat.pk, dispatcher)
    assert merged.state == "merged" and merged.data["merged_into"] == original.pk
    assert merged.data["department"] == original.data["department"]
    with pytest.raises(Conflict):
        duplicates.merge(repeat.pk, dispatcher)
    assert requests.follow_originals() == 0  # the original is still being handled
    act(original.pk, dept, ActRequest(action="accept"))
    act(original.pk, dept, ActRequest(action="reply", comment="路灯已更换"))
    assert requests.follow_originals() == 1
    repeat.refresh_from_db()
    assert repeat.state == "replied" and repeat.pending_role == "dispatcher"
    last = repeat.events.order_by("-seq").first()
    assert last.action == "answer_merged" and "路灯已更换" in last.body
    # each resident gets their own callback, and may reopen their own once
    act(repeat.pk, users.lisi, ActRequest(action="reopen", comment="还是不亮"))
    repeat.refresh_from_db()
    assert (repeat.state, repeat.pending_role) == ("rehandling", "dept_transport")
    assert duplicates.me_too_counts([original.pk]) == {original.pk: 1}


def test_split_and_original_withdrawn(users, unsure):
    original = file(users.zhangsan, LAMP, position=HERE)
    repeat = file(users.lisi, LAMP2, position=near(30), org_code="320507103001")
    dispatcher = users.dispatcher_xiangcheng
    duplicates.merge(repeat.pk, dispatcher)
    split = duplicates.unmerge(repeat.pk, dispatcher, "不是同一盏灯")
    assert split.state == "registered" and "merged_into" not in split.data
    assert duplicates.me_too_counts([original.pk]) == {}
    with pytest.raises(Conflict):
        duplicates.unmerge(repeat.pk, dispatcher, "")

    third = file(users.lisi, LAMP2 + "。", position=near(10), org_code="320507103001")
    duplicates.merge(third.pk, dispatcher)
    root = RequestLink.objects.get(request=third).original  # the split one is a root again
    act(root.pk, root.applicant, ActRequest(action="withdraw"))
    assert requests.sweep() >= 1
    third.refresh_from_db()
    assert third.state == "registered"  # back to the queue, not lost with the original
    assert RequestLink.objects.get(request=third).status == "separate"
