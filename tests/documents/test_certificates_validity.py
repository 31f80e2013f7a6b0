"""Certificates: validity as instants, TB1 / TB2 signatures, re-issue."""

from __future__ import annotations

import subprocess
from datetime import date, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.documents.certificate_helpers import (
    TZ,
    issue,
    need,
    signed,
)
from tests.services.test_cases import submit
from tongban.documents import signing
from tongban.services import certificates
from tongban.services.errors import Invalid
from tongban.store.models import Certificate

# --- validity as instants, TB1 / TB2, re-issue -----------------------------------------------


def at(text: str) -> datetime:
    """A Beijing time: at("2026-03-01 08:30")."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_whole_day_validity_runs_from_midnight_to_235959_beijing(users):
    cert = signed(issue(users))  # dates 2026-12-01 .. 2026-12-10
    assert not cert.validity_timed
    assert (cert.valid_from, cert.valid_to) == (at("2026-12-01 00:00"), at("2026-12-10 23:59:59"))
    assert certificates.signed_fields(cert).format == "TB1"
    assert certificates.qr_payload(cert).startswith("TB1|")
    status = {
        t: certificates.public_status(cert.number, now=at(t))["status"]
        for t in ("2026-11-30 23:59:59", "2026-12-01 00:00", "2026-12-10 23:59:59.900")
    }
    assert list(status.values()) == ["not_yet_valid", "valid", "valid"]
    late = certificates.public_status(cert.number, now=at("2026-12-11 00:00"))
    assert (late["status"], late["valid_to_text"], late["validity"]) == (
        "expired",
        "2026-12-10",
        "2026-12-01 至 2026-12-10",
    )


def test_certificate_signed_before_validities_had_times_still_verifies(users):
    """A row signed by the old code (dates in the canonical form) keeps verifying."""
    cert = issue(users)
    old = signing.Signed.of(
        cert.number,
        cert.matter_code,
        cert.holder,
        date(2026, 12, 1),
        date(2026, 12, 10),
        cert.issued_at,
    )
    key_id, signature = signing.from_settings().sign(old)
    Certificate.objects.filter(pk=cert.pk).update(key_id=key_id, signature=signature)
    cert.refresh_from_db()
    payload = signing.encode_payload(old, key_id, signature)
    assert payload == certificates.qr_payload(cert)
    assert certificates.verify_offline(payload).ok
    status = certificates.public_status(cert.number, payload, today=date(2026, 12, 5))
    assert (status["status"], status["signature"]) == ("valid", "ok")


def timed(cert: Certificate, start: str, end: str) -> Certificate:
    """Turn an issued certificate into one with a timed validity, signed anew (TB2)."""
    cert.valid_from, cert.valid_to, cert.validity_timed = at(start), at(end), True
    certificates.sign(cert)
    cert.save(update_fields=["valid_from", "valid_to", "validity_timed", "signature", "key_id"])
    return cert


def test_timed_validity_is_judged_and_shown_to_the_minute(users):
    cert = timed(signed(issue(users)), "2026-03-01 08:30", "2026-03-01 18:00")
    payload = certificates.qr_payload(cert)
    assert payload.startswith("TB2|") and "|2026-03-01T18:00:00+08:00|" in payload
    assert certificates.verify_offline(payload).ok

    def status(t):
        return certificates.public_status(cert.number, payload, now=at(t))

    assert status("2026-03-01 08:29:59")["status"] == "not_yet_valid"
    assert status("2026-03-01 08:30")["status"] == "valid"
    assert status("2026-03-01 18:00:00.500")["status"] == "valid"
    expired = status("2026-03-01 18:00:01")
    assert (expired["status"], expired["label"], expired["signature"]) == (
        "expired",
        "已过期",
        "ok",
    )
    assert expired["validity"] == "2026-03-01 08:30 至 2026-03-01 18:00"
    # The row must still match its TB2 signature: a later end is caught without a QR.
    Certificate.objects.filter(pk=cert.pk).update(valid_to=at("2026-03-01 23:00"))
    assert status("2026-03-01 19:00")["status"] == "bad_signature"


def test_verify_page_and_pdf_show_the_minutes_of_a_timed_validity(users, tmp_path):
    cert = timed(signed(issue(users)), "2020-03-01 08:30", "2020-03-01 18:00")
    page = Client().get(reverse("verify", args=[cert.number])).content.decode()
    assert "已过期" in page and "有效期已于 2020-03-01 18:00 届满" in page
    assert "2020-03-01 08:30 至 2020-03-01 18:00" in page
    future = timed(signed(issue(users)), "2999-03-01 08:30", "2999-03-01 18:00")
    page = Client().get(reverse("verify", args=[future.number])).content.decode()
    assert "尚未生效" in page and "自 2999-03-01 08:30 起生效" in page
    need("pdftotext")
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(certificates.pdf_bytes(cert))
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
    assert "2020-03-01 08:30 至 2020-03-01 18:00" in text


def test_issuing_again_supersedes_the_previous_certificate(users):
    """Re-entering a certificate's state issues a new one; the old one is revoked in the
    same transaction, its reason naming the new number."""
    from django.db import transaction

    from tongban.services import catalog
    from tongban.services.outputs import issue_certificate

    first = signed(issue(users))
    case = first.case
    spec = catalog.spec_of(case.matter)
    with transaction.atomic():
        row, event = issue_certificate(case, spec, "permit", 0, timezone.now())
        row.save()
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert first.revoke_reason == f"已重新签发：{row.number}"
    assert event.payload["supersedes"] == [first.number]
    old = certificates.public_status(first.number, certificates.qr_payload(first))
    assert (old["label"], old["revoke_reason"]) == ("已撤销", f"已重新签发：{row.number}")
    assert old["signature"] == "ok"  # genuine, but no longer in force
    new = certificates.public_status(row.number, today=date(2026, 12, 5))
    assert new["status"] == "valid"
    page = Client().get(reverse("verify", args=[first.number])).content.decode()
    assert f"撤销理由：已重新签发：{row.number}" in page


def test_validity_ending_before_it_starts_refuses_to_issue(users):
    from tests.services.test_cases import act

    case = submit(users, data={"start_date": "2026-12-10", "end_date": "2026-12-01"})
    for who, action in [
        ("clerk_yangchenghu", "accept"),
        ("reviewer_yangchenghu", "pass_review"),
        ("urban_mgmt_xiangcheng", "cosign"),
        ("traffic_police_xiangcheng", "cosign"),
    ]:
        act(case, getattr(users, who), action)
    with pytest.raises(Invalid) as exc:
        act(case, users.approver_xiangcheng, "approve")
    assert exc.value.code == "validity_inverted"
    assert "结束日期 2026-12-01 早于 开始日期 2026-12-10" in exc.value.message
    case.refresh_from_db()
    assert case.state == "approval" and not Certificate.objects.filter(case=case).exists()
    # Nothing was used up: the next certificate of the rule still gets its next number.
    assert issue(users).number.endswith("〕00001")
