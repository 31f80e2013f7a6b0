"""企业复工一件事 end to end on a real database (SQLite or PostgreSQL): one submission
makes the filing, the supplies request and one waiting pass per employee; the passes
start with the receipt number once the filing is approved; each unit sees only its item
and its row; a refused pass, a corrected pass, a refused filing and a bad row."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from tongban.services import bundles, cases, certificates
from tongban.services.demo import DEMO_PASSWORD
from tongban.services.demo_packs import resumption_bundle as demo
from tongban.services.errors import Invalid, NotFound
from tongban.store.models import Bundle, BundleItem, Case

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 2, 24, 9, 0, tzinfo=TZ)  # a Tuesday
CLERK, REVIEWER = "clerk_yangchenghu1", "resumption_reviewer_yangchenghu"
ECON, EPIDEMIC, SUPPLIES = (
    "econ_officer_yangchenghu",
    "epidemic_officer_yangchenghu",
    "supplies_officer_yangchenghu",
)


@pytest.fixture
def staff(users):
    demo.ensure_accounts()
    return users


@pytest.fixture
def ent(staff):
    return staff.ent_demo


def submit(user, data=None, **kw):
    return bundles.submit(
        "resumption", user, data or demo.answers(1, 5), materials=demo.materials(user), **kw
    )


def act(case, username, action, users, **kw):
    return cases.act(case.pk, getattr(users, username), cases.ActRequest(action=action, **kw))


def items(bundle, key):
    return list(
        BundleItem.objects.filter(bundle=bundle, key=key).select_related("case").order_by("row")
    )


def approve_filing(bundle, users):
    filing = items(bundle, "filing")[0].case
    act(filing, CLERK, "accept", users)
    act(filing, REVIEWER, "approve", users)
    return Case.objects.get(pk=filing.pk)


def finish_supplies(bundle, users):
    supplies = items(bundle, "supplies")[0].case
    act(supplies, ECON, "pass_review", users)
    act(supplies, SUPPLIES, "approve", users, comment="按申请数量核定")


def test_one_submission_makes_filing_supplies_and_a_waiting_pass_per_employee(ent):
    b = submit(ent)
    rows = list(b.items.values_list("key", "row", "status"))
    assert sorted(rows) == sorted(
        [("filing", 0, "active"), ("supplies", 0, "active")]
        + [("passes", r, "waiting") for r in range(5)]
    )
    assert Case.objects.filter(bundle=b).count() == 2  # passes wait for the receipt


def test_passes_start_with_the_receipt_number_and_only_their_own_row(ent, staff):
    b = submit(ent)
    filing = approve_filing(b, staff)
    assert filing.state == "reporting"  # daily reports go on in the filing itself
    receipt = filing.certificates.get().number
    passes = items(b, "passes")
    assert [p.status for p in passes] == ["active"] * 5
    for i, p in enumerate(passes):
        data = p.case.data
        assert data["resumption_receipt_no"] == receipt
        assert data["employee_id"] == demo.employee(i + 1)["employee_id"]
        assert data["valid_from"] == "2026-03-02"  # the planned resumption date, via map
        others = {demo.employee(j)["employee_id"] for j in range(1, 6)} - {data["employee_id"]}
        assert not others & set(map(str, data.values()))
        assert "employee_count" not in data and "supplies_needed" not in data
    # least privilege: the epidemic office sees passes, not the filing or the supplies
    with pytest.raises(NotFound):
        cases.get_case(filing.pk, staff.epidemic_officer_yangchenghu)
    with pytest.raises(NotFound):
        cases.get_case(items(b, "supplies")[0].case.pk, staff.epidemic_officer_yangchenghu)
    supplies = items(b, "supplies")[0].case
    assert "employees" not in supplies.data and "employee_id" not in supplies.data


def test_whole_bundle_completes_with_a_verifiable_pass_per_employee(ent, staff):
    b = submit(ent)
    approve_filing(b, staff)
    finish_supplies(b, staff)
    for p in items(b, "passes"):
        act(p.case, ECON, "pass_review", staff)
        act(p.case, EPIDEMIC, "issue", staff)
    b.refresh_from_db()
    assert b.outcome == "completed" and b.closed_at is not None
    numbers = []
    for i, p in enumerate(items(b, "passes")):
        cert = p.case.certificates.get()
        numbers.append(cert.number)
        check = certificates.verify_offline(certificates.qr_payload(cert))
        assert check.ok
        assert cert.holder == demo.employee(i + 1)["employee_name"]
    assert len(set(numbers)) == 5
    supplies = items(b, "supplies")[0]
    assert supplies.status == "completed" and supplies.case.state == "approved"


def test_one_refused_pass_leaves_the_bundle_partly_done_with_the_reason(ent, staff):
    data = demo.answers(2, 3)
    data["employees"][1] = demo.employee(2, health_status="有发热、咳嗽等症状")
    b = submit(ent, data)
    approve_filing(b, staff)
    finish_supplies(b, staff)
    reason = "申报有发热症状，请到发热门诊排查后重新申请"
    for p in items(b, "passes"):
        act(p.case, ECON, "pass_review", staff)
        if p.row == 1:
            assert "issue" not in cases.allowed_actions(p.case, staff.epidemic_officer_yangchenghu)
            act(p.case, EPIDEMIC, "refuse", staff, comment=reason)
        else:
            act(p.case, EPIDEMIC, "issue", staff)
    b.refresh_from_db()
    assert b.outcome == "partial"
    rows = bundles.status(b)
    refused = [r for r in rows if r["item"].status == "refused"]
    assert len(refused) == 1 and refused[0]["reason"] == reason
    assert refused[0]["row_label"] == demo.employee(2)["employee_name"]
    group = next(e for e in bundles.grouped(rows) if e["group"])
    assert group["summary"] == "共 3 件：已办结 2，未通过 1" and group["open"]


def test_correction_sends_back_one_pass_and_the_applicant_corrects_once(ent, staff):
    b = submit(ent)
    approve_filing(b, staff)
    second = items(b, "passes")[1].case
    act(second, ECON, "request_correction", staff, comment="员工手机号码无法接通，请核实")
    rows = bundles.status(b)
    asking = [r for r in rows if r["needs_me"]]
    assert [(r["item"].key, r["item"].row) for r in asking] == [("passes", 1)]
    assert asking[0]["comment"] == "员工手机号码无法接通，请核实"
    act(second, "ent_demo", "resubmit", staff, data={"employee_phone": "13905129999"})
    second = Case.objects.get(pk=second.pk)
    assert second.state == "review" and second.data["employee_phone"] == "13905129999"
    assert [p.case.state for p in items(b, "passes")] == ["review"] * 5
    assert not any(r["needs_me"] for r in bundles.status(b))


def test_refused_filing_refuses_the_waiting_passes_with_the_reason(ent, staff):
    b = submit(ent)
    finish_supplies(b, staff)
    act(items(b, "filing")[0].case, CLERK, "refuse", staff, comment="不在本社区经营")
    passes = items(b, "passes")
    assert {p.status for p in passes} == {"refused"} and not any(p.case for p in passes)
    assert "企业复工复产备案" in passes[0].reason
    b.refresh_from_db()
    assert b.outcome == "partial"


def test_a_bad_id_in_row_3_is_reported_against_that_row_and_the_item(ent):
    data = demo.answers(3, 4)
    data["employees"][2]["employee_id"] = "320507199006150010"  # wrong check digit
    before = (Bundle.objects.count(), Case.objects.count(), BundleItem.objects.count())
    with pytest.raises(Invalid) as exc:
        submit(ent, data)
    message = exc.value.fields["employees"]
    assert message.startswith("「复工企业员工通行证」第3行 员工身份证号码：")
    assert "第1行" not in message and "第2行" not in message
    assert (Bundle.objects.count(), Case.objects.count(), BundleItem.objects.count()) == before


def test_an_answer_the_pass_refuses_is_reported_against_the_pass(ent):
    before = (Bundle.objects.count(), Case.objects.count())
    with pytest.raises(Invalid) as exc:
        submit(ent, demo.answers(4, 2, valid_to="2026-02-01"))  # before the resumption date
    assert exc.value.fields["valid_to"] == (
        "「复工企业员工通行证」：通行结束日期不能早于开始日期（企业复工一件事中为计划复工日期）"
    )
    assert (Bundle.objects.count(), Case.objects.count()) == before


def test_every_row_problem_is_listed(ent):
    data = demo.answers(5, 3)
    data["employees"][0]["employee_phone"] = "123"
    data["employees"][2]["commute_mode"] = "飞行"
    with pytest.raises(Invalid) as exc:
        submit(ent, data)
    message = exc.value.fields["employees"]
    assert "第1行 员工手机号码" in message and "第3行 通勤方式" in message


def test_resubmitting_with_the_same_key_returns_the_same_bundle(ent):
    a = submit(ent, idempotency_key="rb-1")
    b = submit(ent, idempotency_key="rb-1")
    assert a.pk == b.pk and BundleItem.objects.filter(bundle=a).count() == 7


def test_status_page_groups_the_passes(ent, staff):
    b = submit(ent)
    approve_filing(b, staff)
    client = Client()
    assert client.login(username="ent_demo", password=DEMO_PASSWORD)
    page = client.get(f"/my/bundles/{b.pk}/").content.decode()
    assert "复工企业员工通行证" in page and "共 5 件：办理中 5" in page
    for i in range(1, 6):
        assert demo.employee(i)["employee_name"] in page
    assert "已出证" in page  # the filing: receipt issued, daily reports go on


def test_demo_story_runs_twice(world):
    demo.build()
    demo.build()
    b = Bundle.objects.get(idempotency_key=demo.MARK)
    statuses = sorted(b.items.filter(key="passes").values_list("status", flat=True))
    assert statuses == ["active", "completed", "completed", "completed", "refused"]


def test_the_form_follows_the_items_company_first_then_employees_then_supplies(ent):
    _, form, matters = bundles.spec_and_form("resumption")
    keys = [f.key for f in form.fields]
    filing = {f.key for f in matters["resumption_filing"].fields}
    supplies_only = {f.key for f in matters["epidemic_supplies"].fields} - filing
    first_filing = min(keys.index(k) for k in keys if k in filing)
    assert first_filing == 0  # the company, not the employee table, opens the form
    assert max(keys.index(k) for k in keys if k in filing) < keys.index("employees")
    assert keys.index("employees") < min(keys.index(k) for k in keys if k in supplies_only)


@pytest.mark.parametrize("code", ["newborn", "resumption"])
def test_every_material_of_every_item_is_asked_once(ent, code):
    spec, form, matters = bundles.spec_and_form(code)
    wanted = {m.name for item in spec.items for m in matters[item.matter].materials}
    names = [m.name for m in form.materials]
    assert set(names) == wanted and len(names) == len(set(names))
