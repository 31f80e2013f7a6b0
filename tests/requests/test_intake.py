"""Request intake and routing on a real database, with the real trained classifier."""

from __future__ import annotations

import pytest

from tongban.services import requests
from tongban.services.errors import Invalid
from tongban.store.models import Case, RoutingCorrection

HOUSING = "小区楼顶漏水，雨天屋内墙体发霉，物业和开发商互相推诿，请住建部门督促维修房屋质量问题"


@pytest.fixture
def model():
    if requests.classifier.router() is None:
        pytest.fail("routing model missing: run `make model` (tongban routing train)")
    return requests.classifier.router()


def test_confident_request_is_routed_to_the_department(users, model):
    case = requests.intake(users.zhangsan, {"request_type": "投诉", "content": HOUSING})
    category, confidence, automatic = requests.classifier.classify(HOUSING)
    assert case.data["channel"] == "网站" and case.data["category"] == category
    if automatic:
        assert case.state == "dispatched" and case.data["department"] == "dept_construction"
        assert case.pending_role == "dept_construction"
    else:
        assert case.state == "registered" and case.pending_role == "dispatcher"


def test_unsure_request_waits_for_dispatcher_and_correction_is_recorded(users, model):
    case = requests.intake(users.zhangsan, {"request_type": "咨询", "content": "你好，请问一下"})
    assert case.state == "registered"
    routed = requests.dispatch(case.pk, users.dispatcher_xiangcheng, "卫生计生")
    assert routed.state == "dispatched" and routed.data["department"] == "dept_health"
    if case.data.get("category") != "卫生计生":
        assert RoutingCorrection.objects.filter(case=case, corrected="卫生计生").exists()
        assert ("你好，请问一下", "卫生计生") in requests.corrections()


def test_user_cannot_set_internal_fields(users, model):
    case = requests.intake(
        users.zhangsan,
        {
            "request_type": "咨询",
            "content": "社保卡丢了怎么补办",
            "department": "dept_health",
            "reopened": True,
            "channel": "热线",
        },
    )
    # Internal booleans read "not set" as false: what matters is that the user's True is gone.
    assert case.data.get("reopened") is not True and case.data["channel"] == "网站"


def test_type_sets_the_time_limit(users, model):
    urgent = requests.intake(users.zhangsan, {"request_type": "紧急", "content": HOUSING})
    complaint = requests.intake(users.zhangsan, {"request_type": "投诉", "content": HOUSING})
    assert (urgent.due_at - urgent.submitted_at).total_seconds() == 7200
    assert complaint.due_at > urgent.due_at


def test_empty_and_oversized_text_refused_nothing_created(users, model):
    before = Case.objects.count()
    with pytest.raises(Invalid):
        requests.intake(users.zhangsan, {"request_type": "咨询", "content": ""})
    with pytest.raises(Invalid):
        requests.intake(users.zhangsan, {"request_type": "咨询", "content": "很" * 2001})
    assert Case.objects.count() == before
