"""Dispute mediation through the service layer:
instalment reminders, the agreement PDF, amounts in capital numerals."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.packs.community import act, at, audit_ok, fresh, reminded
from tests.packs.mediation import PLAN, TERMS, agree, file_dispute, second_mediator, to_mediating
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.followups import sweep_reminders
from tongban.services.reports import mediation
from tongban.store.models import Outbox

# ---------------------------------------------------------------------------------------------
# 矛盾纠纷调解
# ---------------------------------------------------------------------------------------------


def test_mediation_agreement_instalments_reminders_and_pdf(users, tmp_path):
    case = file_dispute(users)
    assert case.state == "submitted" and case.pending_role == "mediator"
    assert case.data["dispute_amount"] == 2800 and len(case.data["parties"]) == 2
    assert case.data["agreed_total"] == 0 and case.data["instalment_count"] == 0

    act(case, users.mediator_yangchenghu, "accept", now=at("2026-11-02", "14:00"))
    act(
        case,
        users.mediator_yangchenghu,
        "session",
        now=at("2026-11-04"),
        data={
            "session_date": "2026-11-04",
            "session_mode": "线下",
            "session_place": "阳澄湖镇人民调解委员会调解室",
            "session_notes": "双方到场，被申请人承认欠款，提出分三期支付。",
        },
    )
    act(
        case,
        users.mediator_yangchenghu,
        "session",
        now=at("2026-11-05"),
        data={
            "session_date": "2026-11-05",
            "session_mode": "线上",
            "session_notes": "确认分期方案。",
        },
    )
    assert fresh(case).state == "mediating"
    agree(users, case)
    case = fresh(case)
    assert case.state == "performing"
    assert case.data["agreed_total"] == 2800 and case.data["instalment_count"] == 3

    # The street's second mediator takes over the follow-up (转交): they are the handler now.
    m2 = second_mediator()
    act(case, users.mediator_yangchenghu, "assign", now=at("2026-11-06"), assignee_id=m2.pk)
    assert fresh(case).handler_id == m2.pk

    # Nothing due yet; then the first instalment is paid on time. (The sweep covers every
    # case, the demo's too: the assertions look at this case.)
    sweep_reminders(now=at("2026-11-09"))
    assert reminded(case) == []
    paid_first = [dict(PLAN[0], paid=True), *PLAN[1:]]
    with pytest.raises(Forbidden):  # only the handler may act once the case is transferred
        act(case, users.mediator_yangchenghu, "record_payment", comment="x", data={})
    act(
        case,
        m2,
        "record_payment",
        now=at("2026-11-10", "15:00"),
        comment="已收到第一期 1000 元（微信转账）",
        data={"instalments": paid_first},
    )
    sweep_reminders(now=at("2026-11-11"))
    assert reminded(case) == []  # paid on time: no reminder

    # The second instalment is missed: one reminder to the applicant, the assigned mediator
    # (who stands in for the street's mediators, so the team is not told twice) and (a text
    # message) the respondent — once, however often the worker sweeps.
    assert sweep_reminders(now=at("2026-11-21", "08:00")) >= 1
    assert reminded(case) == [1]
    sweep_reminders(now=at("2026-11-21", "08:05"))
    sweep_reminders(now=at("2026-11-25"))
    assert reminded(case) == [1]
    rows = Outbox.objects.filter(case=case, topic="reminder")
    assert sorted(rows.values_list("recipient", flat=True)) == sorted(
        [
            f"user:{users.zhangsan.pk}",
            f"user:{m2.pk}",
            "sms:139****1111",
        ]
    )
    assert {r.payload["due"] for r in rows} == {"2026-11-20"}

    # The agreement PDF: Chinese text in the embedded Noto Sans CJK face.
    pdf = mediation.agreement_pdf(fresh(case))
    assert pdf.startswith(b"%PDF")
    assert b"NotoSansCJK" in pdf
    if shutil.which("pdffonts"):
        (tmp_path / "a.pdf").write_bytes(pdf)
        out = subprocess.run(
            ["pdffonts", str(tmp_path / "a.pdf")], capture_output=True, check=True
        ).stdout.decode()
        assert "NotoSansCJK" in out and "yes" in out  # embedded
    doc = mediation.agreement_doc(fresh(case))
    assert doc.committee == "阳澄湖镇人民调解委员会"
    assert doc.agreed_on == "2026-11-05" and doc.total == 2800
    assert [s.mode for s in doc.sessions] == ["线下", "线上"]
    assert [i.paid for i in doc.instalments] == [True, False, False]
    assert doc.parties[0].id_card == "110105********002X"  # masked on paper too

    all_paid = [dict(r, paid=True) for r in PLAN]
    act(
        case,
        m2,
        "record_payment",
        now=at("2026-11-29"),
        comment="余款已付清",
        data={"instalments": all_paid},
    )
    act(case, m2, "confirm_fulfilled", now=at("2026-11-30"))
    case = fresh(case)
    assert case.state == "fulfilled" and case.outcome == "completed"
    sweep_reminders(now=at("2026-12-05"))
    assert reminded(case) == [1]  # a closed case is not reminded
    audit_ok(case)


def test_mediation_agreement_needs_terms_and_a_plan(users):
    case = to_mediating(users)
    with pytest.raises(Conflict):  # no instalments
        act(case, users.mediator_yangchenghu, "agree", data={"agreement_terms": TERMS})
    with pytest.raises(Conflict):  # no terms
        act(case, users.mediator_yangchenghu, "agree", data={"instalments": PLAN})
    with pytest.raises(Invalid):
        act(
            case,
            users.mediator_yangchenghu,
            "agree",
            data={"agreement_terms": TERMS, "instalments": [{"due_date": "2026-13-01"}]},
        )
    assert fresh(case).state == "mediating"
    with pytest.raises(NotFound):  # no agreement yet, no agreement PDF
        mediation.agreement_pdf(fresh(case))


def test_mediation_settled_on_the_spot(users):
    case = to_mediating(users)
    act(
        case,
        users.mediator_yangchenghu,
        "agree_done",
        now=at("2026-11-03"),
        data={"agreement_terms": "被申请人当场支付 2800 元，双方再无争议。"},
    )
    case = fresh(case)
    assert case.state == "fulfilled" and case.outcome == "completed"
    assert mediation.agreement_pdf(case).startswith(b"%PDF")
    assert mediation.agreement_doc(case).instalments == ()
    audit_ok(case)


def test_mediation_failure_is_closed_with_a_referral(users):
    case = to_mediating(users)
    with pytest.raises(Invalid):  # the referral comment is required
        act(case, users.mediator_yangchenghu, "fail", data={"referral": "向人民法院起诉"})
    act(
        case,
        users.mediator_yangchenghu,
        "fail",
        comment="被申请人拒绝调解，已告知申请人可向相城区人民法院起诉。",
        data={"referral": "向人民法院起诉"},
    )
    case = fresh(case)
    assert case.state == "failed" and case.outcome == "closed"
    body = case.events.get(action="fail").body
    assert "向人民法院起诉" in body and "相城区人民法院" in body
    with pytest.raises(NotFound):
        mediation.agreement_pdf(case)
    audit_ok(case)


def test_mediation_breach_refusal_withdrawal_and_roles(users):
    case = to_mediating(users)
    agree(users, case)
    act(
        case,
        users.mediator_yangchenghu,
        "breach",
        comment="被申请人逾期未付，已告知申请人申请司法确认后申请强制执行。",
        data={"referral": "申请司法确认后申请强制执行"},
    )
    assert (fresh(case).state, fresh(case).outcome) == ("breached", "closed")

    refused = file_dispute(users)
    with pytest.raises((Forbidden, NotFound)):  # a window clerk is not a mediator
        act(refused, users.clerk_yangchenghu, "accept")
    with pytest.raises(NotFound):  # another street's mediator does not see it
        act(refused, users.mediator_canglang, "accept")
    with pytest.raises(Invalid):
        act(refused, users.mediator_yangchenghu, "refuse")
    act(refused, users.mediator_yangchenghu, "refuse", comment="纠纷已起诉至人民法院，不予受理")
    assert fresh(refused).outcome == "refused"

    withdrawn = to_mediating(users)
    with pytest.raises(Forbidden):  # only the applicant withdraws
        act(withdrawn, users.mediator_yangchenghu, "withdraw")
    act(withdrawn, users.zhangsan, "withdraw")
    assert fresh(withdrawn).outcome == "withdrawn"

    # The street head assigns a mediator (转交) before acceptance; the assignee accepts.
    assigned = file_dispute(users)
    m2 = second_mediator()
    act(assigned, users.head_yangchenghu, "assign", assignee_id=m2.pk)
    with pytest.raises(Forbidden):
        act(assigned, users.mediator_yangchenghu, "accept")
    act(assigned, m2, "accept")
    assert fresh(assigned).state == "mediating"
    audit_ok(case, refused, withdrawn, assigned)


def test_mediation_missing_party_fields_are_reported(users):
    with pytest.raises(Invalid) as exc:
        file_dispute(users, parties=[{"party_role": "申请人", "party_name": "张三"}])
    assert "parties" in exc.value.fields


def test_agreement_pdf_download_is_limited_to_who_sees_the_case(users, client):
    case = to_mediating(users)
    agree(users, case)
    url = f"/reports/mediation/{case.pk}/agreement.pdf"
    assert client.get(url).status_code == 302  # login first
    client.force_login(users.zhangsan)
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    client.force_login(users.mediator_yangchenghu)
    assert client.get(url).status_code == 200
    client.force_login(users.lisi)
    assert client.get(url).status_code == 404
    client.force_login(users.mediator_canglang)
    assert client.get(url).status_code == 404
    client.force_login(users.zhangsan)
    other = file_dispute(users)
    assert client.get(f"/reports/mediation/{other.pk}/agreement.pdf").status_code == 404


def test_amounts_in_capital_numerals():
    from tongban.documents.agreement import rmb_upper

    assert rmb_upper(2800) == "人民币贰仟捌佰元整"
    assert rmb_upper(1005.3) == "人民币壹仟零伍元叁角"
    assert rmb_upper(100100) == "人民币壹拾万零壹佰元整"
    assert rmb_upper(20000000.01) == "人民币贰仟万元零壹分"
