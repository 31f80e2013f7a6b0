"""Home-based work for the disabled through the service layer:
orders, returns, income per person per month."""

from __future__ import annotations

import pytest

from tests.packs.community import WEITANG_COMMUNITY, act, at, audit_ok, fresh
from tongban.services import cases
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.reports import home_work
from tongban.store.models import Case, Org, Profile

# ---------------------------------------------------------------------------------------------
# 残疾人居家就业
# ---------------------------------------------------------------------------------------------


def person(username: str, name: str, org_code: str):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username=username, first_name=name)
    Profile.objects.create(
        user=user, kind="person", display_name=name, home_org=Org.objects.get(code=org_code)
    )
    return user


ORDER = {
    "worker_name": "赵一",
    "id_number": "11010519491231002X",
    "contact_phone": "13912345678",
    "home_address": "渭塘镇渭塘社区 3 幢 201 室",
    "order_product": "手工编织杯垫",
    "order_quantity": 100,
    "piece_rate": "1.2",
    "drop_point": "家门口",
}


def order(worker, now, **data) -> Case:
    return cases.submit("home_work_order", worker, {**ORDER, **data}, now=now)


def run_order(users, worker, *, accepted, rate, paid_date, paid_amount=None, product=None):
    """One order from confirmation to payment, by 渭塘镇's 残联专干."""
    staff = users.disability_worker_weitang
    case = order(worker, at(paid_date[:8] + "01"), worker_name=worker.first_name)
    act(
        case,
        staff,
        "confirm_order",
        data={"piece_rate": rate, **({"order_product": product} if product else {})},
    )
    act(
        case,
        staff,
        "deliver",
        data={"delivery_date": paid_date[:8] + "02", "delivered_materials": "棉线 2 卷"},
    )
    act(case, staff, "pick_up", data={"pickup_date": paid_date, "picked_quantity": accepted + 2})
    act(case, staff, "pass_check", data={"accepted_quantity": accepted, "rejected_quantity": 2})
    amount = paid_amount if paid_amount is not None else round(accepted * float(rate), 2)
    act(
        case,
        staff,
        "pay",
        data={"paid_amount": amount, "paid_date": paid_date, "pay_method": "银行转账"},
    )
    return fresh(case)


def test_home_work_order_happy_path(users):
    worker = person("hw_zhao", "赵一", WEITANG_COMMUNITY)
    staff = users.disability_worker_weitang
    case = order(worker, at("2026-11-02"))
    assert case.state == "submitted" and case.pending_role == "disability_worker"
    with pytest.raises(NotFound):  # 阳澄湖镇's worker does not see 渭塘镇's orders
        act(case, users.disability_worker_yangchenghu, "confirm_order")
    act(case, staff, "confirm_order", now=at("2026-11-02", "15:00"), data={"piece_rate": "1.5"})
    assert fresh(case).data["piece_rate"] == 1.5
    act(
        case,
        staff,
        "deliver",
        now=at("2026-11-03"),
        data={"delivery_date": "2026-11-03", "delivered_materials": "棉线 5 卷、说明书"},
    )
    act(case, worker, "ready", now=at("2026-11-12"), comment="已完成 100 件，请上门收货")
    act(
        case,
        staff,
        "pick_up",
        now=at("2026-11-13"),
        data={"pickup_date": "2026-11-13", "picked_quantity": 100},
    )
    with pytest.raises(Conflict):  # nothing accepted: rework instead
        act(case, staff, "pass_check", data={"accepted_quantity": 0, "rejected_quantity": 100})
    act(
        case,
        staff,
        "pass_check",
        now=at("2026-11-13", "16:00"),
        data={"accepted_quantity": 96, "rejected_quantity": 4, "check_note": "4 件线头未收好"},
    )
    assert fresh(case).state == "settling"
    act(
        case,
        staff,
        "pay",
        now=at("2026-11-20"),
        data={"paid_amount": 144, "paid_date": "2026-11-20", "pay_method": "银行转账"},
    )
    case = fresh(case)
    assert case.state == "paid" and case.outcome == "completed"
    audit_ok(case)


def test_home_work_returns_and_refusals(users):
    worker = person("hw_qian", "钱二", WEITANG_COMMUNITY)
    staff = users.disability_worker_weitang
    declined = order(worker, at("2026-11-02"))
    with pytest.raises(Invalid):
        act(declined, staff, "decline")
    act(declined, staff, "decline", comment="本月订单已派完")
    assert fresh(declined).outcome == "refused"

    withdrawn = order(worker, at("2026-11-02"))
    with pytest.raises(Forbidden):
        act(withdrawn, staff, "withdraw")
    act(withdrawn, worker, "withdraw")
    assert fresh(withdrawn).outcome == "withdrawn"

    reworked = order(worker, at("2026-11-02"))
    act(reworked, staff, "confirm_order")
    act(
        reworked,
        staff,
        "deliver",
        data={"delivery_date": "2026-11-03", "delivered_materials": "棉线"},
    )
    with pytest.raises(Forbidden):  # the worker does not check their own work
        act(reworked, worker, "pick_up", data={"pickup_date": "2026-11-10", "picked_quantity": 100})
    act(reworked, staff, "pick_up", data={"pickup_date": "2026-11-10", "picked_quantity": 100})
    act(reworked, staff, "rework", comment="针脚过松，请返工")
    assert fresh(reworked).state == "producing"
    act(reworked, staff, "pick_up", data={"pickup_date": "2026-11-15", "picked_quantity": 100})
    act(reworked, staff, "pass_check", data={"accepted_quantity": 100, "rejected_quantity": 0})
    assert fresh(reworked).state == "settling"

    cancelled = order(worker, at("2026-11-02"))
    act(cancelled, staff, "confirm_order")
    act(cancelled, staff, "cancel", comment="本人住院，无法生产")
    assert (fresh(cancelled).state, fresh(cancelled).outcome) == ("cancelled", "closed")

    with pytest.raises(Invalid) as exc:
        order(worker, at("2026-11-02"), order_quantity="0", piece_rate="abc")
    assert set(exc.value.fields) == {"order_quantity", "piece_rate"}
    with pytest.raises(Invalid):  # a person's matter: not for an enterprise account
        cases.submit("home_work_order", users.ent_demo, ORDER)
    audit_ok(declined, withdrawn, reworked, cancelled)


def test_home_work_income_per_person_per_month(users, client):
    zhao = person("hw_zhao2", "赵一", WEITANG_COMMUNITY)
    qian = person("hw_qian2", "钱二", "320507102002")  # 凤凰泾村
    made = [
        run_order(users, zhao, accepted=96, rate="1.5", paid_date="2026-11-20"),  # 144.00
        run_order(users, zhao, accepted=200, rate="0.35", paid_date="2026-11-28", product="纸盒"),
        run_order(users, zhao, accepted=50, rate="2", paid_date="2026-10-30"),  # October
        run_order(users, qian, accepted=33, rate="0.85", paid_date="2026-11-05", paid_amount=28),
    ]
    unpaid = order(zhao, at("2026-11-01"))
    act(unpaid, users.disability_worker_weitang, "confirm_order")

    scope = home_work.scope_for(users.disability_worker_weitang)
    rep = home_work.income(scope, home_work.month("2026-11"))
    got = {p.name: (p.accepted, str(p.income), str(p.paid), len(p.orders)) for p in rep.people}
    assert got == {
        "赵一": (296, "214.00", "214.00", 2),  # 96 × 1.5 + 200 × 0.35
        "钱二": (33, "28.05", "28.00", 1),  # 33 × 0.85; 28 paid: flagged
    }
    assert str(rep.income) == "242.05" and rep.orders == 3
    assert [p.differs for p in rep.people] == [False, True]
    october = home_work.income(scope, home_work.month("2026-10"))
    assert [(p.name, str(p.income)) for p in october.people] == [("赵一", "100.00")]

    narrowed = home_work.income(
        home_work.scope_for(users.disability_worker_weitang, "320507102002"),
        home_work.month("2026-11"),
    )
    assert [p.name for p in narrowed.people] == ["钱二"]
    other = home_work.income(
        home_work.scope_for(users.disability_worker_yangchenghu), home_work.month("2026-11")
    )
    assert "赵一" not in [p.name for p in other.people]
    with pytest.raises(Forbidden):
        home_work.scope_for(users.zhangsan)
    with pytest.raises(Invalid):
        home_work.month("2026-13")

    url = "/reports/home-work/?month=2026-11"
    assert client.get(url).status_code == 302
    client.force_login(users.zhangsan)
    assert client.get(url).status_code == 403
    client.force_login(users.disability_worker_weitang)
    r = client.get(url)
    assert r.status_code == 200
    page = r.content.decode()
    assert "赵一" in page and "214.00" in page and "28.05" in page and "242.05" in page
    assert client.get("/reports/home-work/?month=2026-1x").status_code == 400
    client.force_login(users.supervisor_xiangcheng)
    assert "214.00" in client.get(url).content.decode()
    audit_ok(*made, unpaid)
