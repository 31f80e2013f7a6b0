"""A request's whole life through the services, on whichever database the suite runs on:
registered → dispatched → sent back (退单, still the first department's) → returned to it →
sent back again → re-dispatched → accepted → extended → replied →
reopened once (same department, supervisor told) → replied → callback with a rating → closed;
the 催办 a day after a missed deadline; anonymous requests; referral to people's mediation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.engine.schema import DurationSpec
from tongban.engine.workflow import duration
from tongban.services import audit, calendar, cases, requests, worker
from tongban.services.cases import ActRequest, act
from tongban.services.errors import Conflict, Invalid, ServiceError
from tongban.store.models import Case, Event, Outbox

ROOF = "湘城社区三号楼楼顶漏水，雨天屋内墙体发霉，物业和开发商互相推诿，请住建部门督促维修"


@pytest.fixture
def unsure(monkeypatch):
    """The classifier abstains: every request waits for a dispatcher (deterministic)."""
    monkeypatch.setattr(requests.classifier, "classify", lambda text: (None, 0.0, False))


def file(users, text=ROOF, **extra):
    raw = {"request_type": "投诉", "content": text, "contact_phone": "13812345678", **extra}
    return requests.intake(users.zhangsan, raw)


def step(case_id, user, action, comment="", **data):
    return act(case_id, user, ActRequest(action=action, comment=comment, data=data))


def topics(case):
    return list(Outbox.objects.filter(case=case).values_list("topic", "recipient"))


def test_full_lifecycle(users, unsure):
    case = file(users)
    assert case.state == "registered" and case.pending_role == "dispatcher"
    assert requests.token_of(case)
    dispatcher, dept = users.dispatcher_xiangcheng, users.dept_construction_xiangcheng

    case = requests.dispatch(case.pk, dispatcher, "城乡建设")
    assert (case.state, case.pending_role) == ("dispatched", "dept_construction")

    with pytest.raises(Invalid):  # 退单 needs a reason
        step(case.pk, dept, "send_back")
    case = step(case.pk, dept, "send_back", "不属于住建局职责，应由物业主管部门办理")
    # The dispatcher reviews the send-back; until then the first receiver still owns it.
    assert (case.state, case.pending_role) == ("sent_back", "dispatcher")
    assert case.data["department"] == "dept_construction"
    assert requests.sent_back_reason(case) == "不属于住建局职责，应由物业主管部门办理"
    with pytest.raises(Invalid):  # refusing the send-back needs a reason too
        requests.keep(case.pk, dispatcher, "")
    case = requests.keep(case.pk, dispatcher, "楼顶漏水属于房屋质量问题，由住建局督促")
    assert (case.state, case.pending_role) == ("dispatched", "dept_construction")
    case = step(case.pk, dept, "send_back", "仍认为应由物业主管部门办理")
    case = requests.dispatch(case.pk, dispatcher, "城乡建设")
    assert (case.state, case.pending_role) == ("dispatched", "dept_construction")

    case = step(case.pk, dept, "accept")
    assert case.state == "handling" and case.deadline is not None
    before = case.deadline
    case = act(
        case.pk,
        dept,
        ActRequest(action="extend", comment="需要等待雨停后检测", extension={"working_days": 2}),
    )
    assert case.deadline > before and case.extensions == 1

    case = step(case.pk, dept, "reply", "已约谈物业，本周内完成楼顶防水维修")
    assert (case.state, case.pending_role) == ("replied", "dispatcher")

    # The resident is not satisfied: reopened once, back to the same department,
    # the supervisor is copied.
    case = step(case.pk, users.zhangsan, "reopen", "维修后仍然漏水")
    assert (case.state, case.pending_role) == ("rehandling", "dept_construction")
    assert case.data["reopened"] is True and case.deadline is not None
    assert any(t == "action_taken" and "supervisor" in r for t, r in topics(case))
    case = step(case.pk, dept, "reply_again", "已重新做防水层并经业主确认")
    assert (case.state, case.pending_role) == ("rereplied", "dispatcher")
    with pytest.raises(Conflict):  # only once
        step(case.pk, users.zhangsan, "reopen", "还是不满意")

    with pytest.raises(ServiceError):  # five levels only
        step(case.pk, dispatcher, "callback", satisfaction="还行")
    case = step(case.pk, dispatcher, "callback", satisfaction="满意")
    assert (case.state, case.outcome, case.data["satisfaction"]) == ("closed", "completed", "满意")
    assert audit.verify_case(Case.objects.get(pk=case.pk)) is None
    actions = list(Event.objects.filter(case=case).order_by("seq").values_list("action", flat=True))
    assert actions == [
        "",
        "dispatch",
        "send_back",
        "keep",
        "send_back",
        "dispatch",
        "accept",
        "extend",
        "reply",
        "reopen",
        "reply_again",
        "callback",
    ]


def test_confident_or_chosen_category_routes_without_dispatcher(users):
    case = requests.intake(
        users.zhangsan, {"request_type": "求助", "content": ROOF}, category="城乡建设"
    )
    assert (case.state, case.pending_role) == ("dispatched", "dept_construction")
    with pytest.raises(Invalid):
        requests.intake(
            users.zhangsan, {"request_type": "求助", "content": ROOF}, category="无此类"
        )


def test_urge_the_day_after_a_missed_deadline(users, unsure):
    case = requests.dispatch(file(users).pk, users.dispatcher_xiangcheng, "城乡建设")
    late = case.deadline + timedelta(minutes=1)
    worker.run_once(late)  # the generic sweep: overdue and escalated at the deadline
    case.refresh_from_db()
    assert case.overdue
    assert {"overdue", "escalated"} <= {t for t, _ in topics(case)}
    assert requests.sweep_urges(late) == 0  # not yet a day late

    next_day = case.deadline + timedelta(days=1, minutes=1)
    swept, _ = worker.run_once(next_day)
    assert swept >= 1
    urges = [r for t, r in topics(case) if t == requests.URGE_TOPIC]
    assert any(r.startswith("role:dept_construction@") for r in urges)
    assert any(r.startswith("role:supervisor@") for r in urges)
    assert Event.objects.filter(case=case, kind="escalated", action="urge").count() == 1
    assert requests.sweep_urges(next_day + timedelta(hours=5)) == 0  # once per step
    assert audit.verify_case(Case.objects.get(pk=case.pk)) is None


def test_anonymous_request_keeps_no_contact_and_closes_without_callback(users, unsure):
    case = file(users, anonymous=True, contact_name="张三")
    assert "contact_phone" not in case.data and "contact_name" not in case.data
    dispatcher, dept = users.dispatcher_xiangcheng, users.dept_construction_xiangcheng
    requests.dispatch(case.pk, dispatcher, "城乡建设")
    step(case.pk, dept, "accept")
    step(case.pk, dept, "reply", "已处理")
    # The callback (which takes a rating) is not offered: there is nobody to call back.
    offered = cases.allowed_actions(Case.objects.get(pk=case.pk), dispatcher)
    assert "close_anonymous" in offered and "callback" not in offered
    case = step(case.pk, dispatcher, "close_anonymous")
    assert case.outcome == "completed"
    named = file(users)
    requests.dispatch(named.pk, dispatcher, "城乡建设")
    step(named.pk, dept, "accept")
    step(named.pk, dept, "reply", "已处理")
    with pytest.raises(Conflict):
        step(named.pk, dispatcher, "close_anonymous")


def _referral(**over):
    return {
        "comment": "邻里漏水纠纷，双方同意调解",
        "dispute_type": "邻里",
        "parties": [
            {"party_role": "申请人", "party_name": "张三", "party_phone": "13812345678"},
            {"party_role": "被申请人", "party_name": "李四", "party_phone": "13912345678"},
        ],
        "mediation_request": "请求楼上住户修复漏水并赔偿墙面损失",
        "consent": True,
        **over,
    }


def test_dispute_request_becomes_a_linked_mediation_case(users, unsure):
    case = file(users, text="楼上邻居家卫生间漏水到我家，多次协商不成，希望有人出面调解")
    requests.dispatch(case.pk, users.dispatcher_xiangcheng, "城乡建设")
    dept = users.dept_construction_xiangcheng
    step(case.pk, dept, "accept")

    before = Case.objects.count()
    with pytest.raises(ServiceError):  # a party without a phone: the mediation matter refuses
        requests.refer_mediation(
            case.pk,
            dept,
            **_referral(parties=[{"party_role": "申请人", "party_name": "张三"}]),
        )
    with pytest.raises(ServiceError):  # the resident has not agreed
        requests.refer_mediation(case.pk, dept, **_referral(consent=False))
    case.refresh_from_db()
    assert case.state == "handling" and Case.objects.count() == before  # nothing half-done

    request, mediation = requests.refer_mediation(case.pk, dept, **_referral())
    assert (request.state, request.outcome) == ("referred", "closed")
    assert mediation.matter_code == "dispute_mediation" and mediation.parent_id == request.pk
    assert requests.mediation_of(request) == mediation
    assert mediation.state == "submitted" and mediation.pending_role == "mediator"
    assert mediation.data["dispute_summary"] == request.data["content"]
    assert len(mediation.data["parties"]) == 2
    # The street's mediator has it in the worklist and can accept it.
    accepted = step(mediation.pk, users.mediator_yangchenghu, "accept")
    assert accepted.state == "mediating"
    # Both case pages link to the other, for whoever may see it.
    from django.test import Client

    web = Client()
    web.force_login(users.mediator_yangchenghu)
    page = web.get(f"/work/cases/{mediation.pk}/").content.decode()
    assert f"/work/cases/{request.pk}/" not in page  # the request is not the mediator's
    web.force_login(users.supervisor_xiangcheng)
    page = web.get(f"/work/cases/{mediation.pk}/").content.decode()
    assert f'来源办件：<a href="/work/cases/{request.pk}/"' in page
    page = web.get(f"/work/cases/{request.pk}/").content.decode()
    assert f'派生办件：<a href="/work/cases/{mediation.pk}/"' in page


def test_referral_of_a_request_placed_only_in_the_district(users, unsure):
    case = requests.intake(
        users.dispatcher_xiangcheng,
        {"request_type": "求助", "content": "两户人家因为装修噪音吵架，想请人调解一下"},
        channel="hotline",
        org_code="320507",
    )
    assert case.org.level == "district" and not case.data.get("located")
    requests.dispatch(case.pk, users.dispatcher_xiangcheng, "城乡建设")
    dept = users.dept_construction_xiangcheng
    with pytest.raises(Invalid):
        requests.refer_mediation(case.pk, dept, **_referral())
    _, mediation = requests.refer_mediation(case.pk, dept, org_code="320507103", **_referral())
    assert mediation.org.code == "320507103" and mediation.j_street == "320507103"
    case.refresh_from_db()
    assert case.org.code == "320507103" and case.data["located"] is True


def test_operator_places_request_by_address(users, unsure):
    case = requests.intake(
        users.dispatcher_xiangcheng,
        {"request_type": "求助", "content": "路灯坏了好几天", "address": "阳澄湖镇湘城社区18幢"},
        channel="hotline",
        org_code="320507",
    )
    assert case.org.name == "湘城社区" and case.data["located"] is True
    assert case.data["channel"] == "热线"


def test_time_window_and_now(users, unsure):
    now = timezone.now()
    case = file(users)
    assert case.submitted_at <= timezone.now() and case.submitted_at >= now - timedelta(minutes=1)


def test_request_is_placed_where_the_address_says(users, unsure):
    # zhangsan lives in 湘城社区 but reports a problem in 黄埭镇's 潘阳村
    case = file(
        users, text="潘阳村村口的垃圾桶好几天没人清运，臭味很大", address="黄埭镇潘阳村村口"
    )
    assert case.org.name == "潘阳村" and case.data["located"] is True
    home = file(users, text="小区门口路灯不亮", address="阳澄湖镇湘城社区北门")
    assert home.org.name == "湘城社区"
    with pytest.raises(Invalid):  # a point outside both districts
        file(users, position={"lat": 31.23, "lng": 121.47})  # Shanghai


def test_sent_back_request_stays_with_the_first_department_until_redispatched(users, unsure):
    dispatcher = users.dispatcher_xiangcheng
    case = requests.dispatch(file(users).pk, dispatcher, "城乡建设")
    first_deadline = case.due_at
    case = step(case.pk, users.dept_construction_xiangcheng, "send_back", "应由卫健委办理")
    assert case.data["department"] == "dept_construction" and case.due_at == first_deadline
    with pytest.raises(ServiceError):  # the department cannot accept what it sent back
        step(case.pk, users.dept_construction_xiangcheng, "accept")
    with pytest.raises(ServiceError):  # only the dispatcher reviews a send-back
        requests.dispatch(case.pk, users.dept_construction_xiangcheng, "卫生计生")
    case = requests.dispatch(case.pk, dispatcher, "卫生计生", "dept_health")
    assert (case.state, case.pending_role) == ("dispatched", "dept_health")
    assert case.data["department"] == "dept_health"
    assert audit.verify_case(Case.objects.get(pk=case.pk)) is None


def _replied(users, **extra):
    dispatcher, dept = users.dispatcher_xiangcheng, users.dept_construction_xiangcheng
    case = requests.dispatch(file(users, **extra).pk, dispatcher, "城乡建设")
    step(case.pk, dept, "accept")
    return step(case.pk, dept, "reply", "已处理")


def test_callback_needs_one_of_five_ratings_and_a_named_resident(users, unsure):
    dispatcher = users.dispatcher_xiangcheng
    case = _replied(users)
    for bad in ({}, {"satisfaction": ""}, {"satisfaction": "一般"}):
        with pytest.raises(ServiceError):
            step(case.pk, dispatcher, "callback", **bad)
    assert Case.objects.get(pk=case.pk).state == "replied"
    case = step(case.pk, dispatcher, "callback", satisfaction="非常不满意")
    assert case.data["satisfaction"] == "非常不满意" and case.outcome == "completed"
    anonymous = _replied(users, anonymous=True)
    with pytest.raises(Conflict):  # no contact, so no callback: closed without one
        step(anonymous.pk, dispatcher, "callback", satisfaction="满意")
    assert step(anonymous.pk, dispatcher, "close_anonymous").outcome == "completed"
    assert "satisfaction" not in Case.objects.get(pk=anonymous.pk).data


def test_extension_only_before_the_deadline_and_once(users, unsure):
    dept = users.dept_construction_xiangcheng
    case = requests.dispatch(file(users).pk, users.dispatcher_xiangcheng, "城乡建设")
    case = step(case.pk, dept, "accept")
    late = case.deadline + timedelta(minutes=1)
    with pytest.raises(ServiceError):  # the deadline has passed: too late to ask
        act(
            case.pk,
            dept,
            ActRequest(action="extend", comment="等待检测", extension={"working_days": 1}),
            now=late,
        )
    case = act(
        case.pk,
        dept,
        ActRequest(action="extend", comment="等待检测", extension={"working_days": 5}),
    )
    assert case.extensions == 1
    with pytest.raises(ServiceError):  # once only
        act(
            case.pk,
            dept,
            ActRequest(action="extend", comment="再等等", extension={"working_days": 1}),
        )


@pytest.mark.parametrize(
    ("request_type", "limit"),
    [("紧急", timedelta(hours=2)), ("咨询", None), ("求助", None), ("投诉", None)],
)
def test_handling_time_limit_by_type(users, unsure, request_type, limit):
    case = requests.dispatch(
        file(users, request_type=request_type).pk, users.dispatcher_xiangcheng, "城乡建设"
    )
    case = step(case.pk, users.dept_construction_xiangcheng, "accept")
    entered = case.entered_at
    days = {"咨询": 2, "求助": 5, "投诉": 10}.get(request_type)
    if limit is None:
        expected = calendar.current().add(entered, duration(DurationSpec(working_days=days)))
        assert case.deadline == expected
    else:
        assert case.deadline - entered == limit


def test_mediation_link_both_ways(users, unsure):
    case = file(users, text="楼上邻居家卫生间漏水到我家，多次协商不成，希望有人出面调解")
    requests.dispatch(case.pk, users.dispatcher_xiangcheng, "城乡建设")
    dept = users.dept_construction_xiangcheng
    step(case.pk, dept, "accept")
    request, mediation = requests.refer_mediation(case.pk, dept, **_referral())
    assert requests.mediation_of(request) == mediation
    assert requests.request_of(mediation) == request
    assert requests.request_of(request) is None
