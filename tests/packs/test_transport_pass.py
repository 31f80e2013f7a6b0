"""重点物资运输车辆通行证 through the service layer: who does what, numbering (also
under concurrency), signed certificates and their public status."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from django.db import connections

from tests.conftest import ensure_world
from tests.documents.certificate_helpers import need
from tests.packs.transport import COMPANY, T0, act, apply_pass, at, issue_pass
from tests.processes import run_in_processes
from tongban.documents import signing
from tongban.services import cases, certificates, worklist
from tongban.services.audit import verify_all
from tongban.services.demo_packs.transport import id_number, pass_data, pass_materials
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Case, Certificate, Event, Outbox

# --- 重点物资运输车辆通行证 -------------------------------------------------------------------


def test_pass_reviewed_by_the_town_approved_by_the_district_numbered_and_signed(users):
    case = apply_pass(users)
    assert (case.state, case.pending_role, case.pending_level) == (
        "review",
        "econ_officer",
        "street",
    )
    assert case.org.name == "湘城社区"
    assert case.due_at == at("2026-03-03 17:30")  # promised in 1 working day
    assert case.deadline == at("2026-03-02 13:00")  # the town has 4 working hours
    assert case.data["drivers"][1]["driver_name"] == "刘海" and len(case.data["drivers"]) == 2
    assert worklist.worklist(users.econ_officer_yangchenghu).filter(pk=case.pk).exists()

    act(case, users.econ_officer_yangchenghu, "pass_review", T0 + timedelta(hours=1))
    case.refresh_from_db()
    assert (case.state, case.pending_role, case.pending_level) == (
        "approval",
        "agri_approver",
        "district",
    )
    assert worklist.worklist(users.agri_approver_xiangcheng).filter(pk=case.pk).exists()
    act(case, users.agri_approver_xiangcheng, "approve", T0 + timedelta(hours=2))
    case.refresh_from_db()
    assert (case.state, case.outcome) == ("issued", "completed")
    assert case.closed_at <= case.due_at

    cert = Certificate.objects.get(case=case)
    assert cert.number == "320507000001"  # 6-digit district code + 6-digit sequence
    assert re.fullmatch(r"\d{12}", cert.number)
    assert (cert.name, cert.holder) == ("重点物资运输车辆通行证", COMPANY)
    assert (cert.valid_from, cert.valid_to) == (at("2026-03-02 00:00"), at("2026-03-08 23:59:59"))
    assert not cert.validity_timed
    assert cert.details["plate_number"] == "苏E17F01" and cert.details["goods_category"] == "农产品"
    ring = signing.from_settings()
    assert ring.check(certificates.signed_fields(cert), cert.key_id, cert.signature) == "ok"
    payload = certificates.qr_payload(cert)
    assert payload.startswith("TB1|320507000001|vehicle_pass|苏州阳澄湖农产品有限公司|2026-03-02|")
    assert certificates.verify_offline(payload).ok

    def status(t):
        return certificates.public_status(cert.number, payload, now=at(t))

    assert status("2026-03-01 23:59")["status"] == "not_yet_valid"
    valid = status("2026-03-08 23:59")
    assert (valid["status"], valid["label"], valid["signature"]) == ("valid", "有效", "ok")
    assert valid["validity"] == "2026-03-02 至 2026-03-08"
    assert valid["holder"] == "苏" + "*" * (len(COMPANY) - 1)
    assert valid["issuer"] == "相城区农业农村局"
    assert status("2026-03-09 00:00")["status"] == "expired"

    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "moved", "moved", "certificate"]
    assert [f for _, f in verify_all([case.pk])] == [None]


def test_second_pass_takes_the_next_number(users):
    first = issue_pass(users)
    second = issue_pass(users, T0 + timedelta(days=1), plate_number="苏E99F99")
    assert (first.number, second.number) == ("320507000001", "320507000002")


def test_pass_pdf_lists_the_drivers_with_masked_id_numbers(users, tmp_path):
    need("pdftotext")
    cert = issue_pass(users)
    pdf = tmp_path / "pass.pdf"
    pdf.write_bytes(certificates.pdf_bytes(cert))
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
    assert "重点物资运输车辆通行证" in text and "320507000001" in text
    assert "2026-03-02 至 2026-03-08" in text and "相城区农业农村局" in text
    flat = "".join(text.split())
    # personal data in the rows is masked as in lists: ID, phone, licence number
    assert (
        "姓名：王建军身份证号码：320507********0016手机号码：138****0001驾驶证号：3******" in flat
    )
    assert id_number(1) not in flat and "姓名：刘海" in flat
    assert "苏E17F01" in flat


def test_correction_round_trip_with_guidance_kept_in_the_history(users):
    econ = users.econ_officer_yangchenghu
    case = apply_pass(users)
    with pytest.raises(Invalid) as exc:
        act(case, econ, "request_correction", T0 + timedelta(minutes=20))
    assert exc.value.fields == {"comment": "请填写意见"}
    act(
        case,
        econ,
        "request_correction",
        T0 + timedelta(minutes=20),
        comment="行驶证照片不清晰；路线请写明途经卡口",
    )
    case.refresh_from_db()
    assert (case.state, case.pending_role) == ("correction", "applicant")
    act(case, econ, "guide", T0 + timedelta(minutes=30), comment="电话指导：路线写到卡口名称")
    act(
        case,
        users.ent_demo,
        "resubmit",
        at("2026-03-03 09:00"),
        data={"route": "阳澄湖大道—中环北线（阳澄湖卡口）—南环桥市场", "plate_number": "苏E 12345"},
    )
    case.refresh_from_db()
    assert (case.state, case.data["plate_number"]) == ("review", "苏E12345")
    assert case.due_at == at("2026-03-04 17:30")  # the promise restarts after a correction
    resubmit = case.events.get(action="resubmit")
    assert '"plate_number":["苏E17F01","苏E12345"]' in resubmit.body
    guide = case.events.get(action="guide")
    assert (guide.kind, guide.from_state) == ("noted", "correction")
    act(case, econ, "pass_review", at("2026-03-03 10:00"))
    act(case, users.agri_approver_xiangcheng, "approve", at("2026-03-03 11:00"))
    assert Certificate.objects.get(case=case).details["plate_number"] == "苏E12345"


def test_refusal_by_the_district_with_a_reason(users):
    case = apply_pass(users, goods_category="其他")
    with pytest.raises(Conflict):  # the town guides and reviews; it does not refuse
        act(case, users.econ_officer_yangchenghu, "refuse", T0, comment="不属于重点物资")
    act(case, users.econ_officer_yangchenghu, "pass_review", T0 + timedelta(minutes=30))
    with pytest.raises(Invalid):
        act(case, users.agri_approver_xiangcheng, "refuse", T0 + timedelta(hours=1))
    act(
        case,
        users.agri_approver_xiangcheng,
        "refuse",
        T0 + timedelta(hours=1),
        comment="所运物资不属于重点保供物资",
    )
    case.refresh_from_db()
    assert (case.state, case.outcome) == ("refused", "refused")
    assert not Certificate.objects.filter(case=case).exists()


def test_wrong_roles(users):
    case = apply_pass(users)
    # A role that takes no part in the matter does not even see the case.
    for outsider in (users.reviewer_yangchenghu, users.clerk_yangchenghu1):
        with pytest.raises(NotFound):
            act(case, outsider, "pass_review", T0)
        with pytest.raises(NotFound):
            cases.get_case(case.pk, outsider)
    # A role of the matter, in the wrong step, is refused with the role it needs.
    with pytest.raises(Forbidden) as exc:
        act(case, users.agri_approver_xiangcheng, "pass_review", T0)
    assert "经济发展办工作人员" in exc.value.message  # the role by its label, not its code
    act(case, users.econ_officer_yangchenghu, "pass_review", T0)
    with pytest.raises(Forbidden):
        act(case, users.econ_officer_yangchenghu, "approve", T0)
    with pytest.raises(Invalid, match="只能由企业申请"):
        cases.submit(
            "vehicle_pass",
            users.zhangsan,
            pass_data(1, "张三", start="2026-03-02", end="2026-03-08"),
            materials=pass_materials(users.zhangsan),
        )


def test_another_towns_economic_office_cannot_see_it(users):
    case = apply_pass(users)
    other = users.econ_officer_weitang
    with pytest.raises(NotFound):
        cases.get_case(case.pk, other)
    with pytest.raises(NotFound):
        act(case, other, "pass_review", T0)
    assert not worklist.worklist(other).filter(pk=case.pk).exists()
    assert cases.get_case(case.pk, users.econ_officer_yangchenghu).pk == case.pk


def test_bad_credit_code_plate_and_driver_rows_are_reported_per_field(users):
    drivers = pass_data(1, COMPANY, start="2026-03-02", end="2026-03-08")["drivers"]
    bad_row = {**drivers[1], "driver_id": id_number(7)[:-1] + "0", "driver_phone": "12345"}
    if bad_row["driver_id"] == id_number(7):
        bad_row["driver_id"] = id_number(7)[:-1] + "1"
    with pytest.raises(Invalid) as exc:
        apply_pass(
            users,
            credit_code="91320507MA2000001X",
            plate_number="苏12345",
            drivers=[drivers[0], bad_row],
        )
    fields = exc.value.fields
    assert set(fields) == {"credit_code", "plate_number", "drivers"}
    assert "校验位" in fields["credit_code"]
    assert "第2位" in fields["plate_number"]
    assert fields["drivers"].startswith("第2行 身份证号码：身份证号码校验位不正确")
    assert "第2行 手机号码：" in fields["drivers"] and "第1行" not in fields["drivers"]
    with pytest.raises(Invalid) as exc:
        apply_pass(users, drivers=[])
    assert exc.value.fields["drivers"] == "必填"
    with pytest.raises(Invalid) as exc:
        apply_pass(users, drivers=[{"driver_name": "王建军"}])
    assert "第1行 身份证号码：必填" in exc.value.fields["drivers"]


def test_end_date_before_start_date_is_refused_at_submission(users):
    """The applicant hears at once, under the end date, and nothing is written; a
    correction cannot turn the dates round either."""
    tables = (Case, Event, Outbox, Certificate)
    before = [m.objects.count() for m in tables]
    with pytest.raises(Invalid) as exc:
        apply_pass(users, valid_from="2026-03-08", valid_to="2026-03-02")
    assert exc.value.message == "申请内容有误，请按提示修改"
    assert exc.value.fields == {"valid_to": "通行结束日期不能早于通行开始日期"}
    assert [m.objects.count() for m in tables] == before

    case = apply_pass(users, valid_from="2026-03-02", valid_to="2026-03-02")  # one day is fine
    econ = users.econ_officer_yangchenghu
    act(case, econ, "request_correction", T0 + timedelta(hours=1), comment="请核对通行日期")
    with pytest.raises(Invalid) as exc:
        act(
            case,
            users.ent_demo,
            "resubmit",
            T0 + timedelta(hours=2),
            data={"valid_to": "2026-03-01"},
        )
    assert exc.value.fields == {"valid_to": "通行结束日期不能早于通行开始日期"}
    case.refresh_from_db()
    assert (case.state, case.data["valid_to"]) == ("correction", "2026-03-02")
    assert not case.events.filter(action="resubmit").exists()


def test_tampered_qr_payload_is_rejected(users):
    cert = issue_pass(users)
    payload = certificates.qr_payload(cert)
    assert certificates.public_status(cert.number, payload)["signature"] == "ok"
    for bad in (
        payload.replace("|2026-03-08|", "|2026-12-31|"),  # a longer validity
        payload.replace(COMPANY, "苏州某某贸易有限公司"),  # another holder
        payload.replace("|320507000001|", "|320507000002|"),  # another number
        payload.replace("|vehicle_pass|", "|freight_return|"),
        payload[:-2] + ("AA" if not payload.endswith("AA") else "BB"),  # the signature
    ):
        assert bad != payload
        assert not certificates.verify_offline(bad).ok
        status = certificates.public_status(cert.number, bad)
        assert (status["status"], status["message"]) == (
            "bad_signature",
            "签名无效，证照可能被篡改",
        )


def _issue_passes(worker: int, count: int) -> list[str]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    ent = User.objects.get(username="ent_demo")
    econ = User.objects.get(username="econ_officer_yangchenghu")
    agri = User.objects.get(username="agri_approver_xiangcheng")
    files = pass_materials(ent)
    numbers = []
    for i in range(count):
        data = pass_data(worker * 10 + i, COMPANY, start="2026-03-02", end="2026-03-08")
        case = cases.submit("vehicle_pass", ent, data, materials=files)
        cases.act(case.pk, econ, cases.ActRequest(action="pass_review"))
        cases.act(case.pk, agri, cases.ActRequest(action="approve"))
        numbers.append(Certificate.objects.get(case_id=case.pk).number)
    connections.close_all()
    return numbers


@pytest.mark.django_db(transaction=True)
def test_passes_issued_by_several_processes_at_once_are_unique_and_gapless():
    ensure_world()
    workers, each = 4, 5
    results = run_in_processes(_issue_passes, [(w, each) for w in range(workers)])
    numbers = sorted(n for r in results for n in r)
    assert len(numbers) == len(set(numbers)) == workers * each
    assert all(re.fullmatch(r"320507\d{6}", n) for n in numbers)
    assert [int(n[6:]) for n in numbers] == list(range(1, workers * each + 1))
