"""Certificates on the real database: signed at issue, PDF with CJK font and QR, public
verification page, key rotation, revocation, the `tongban cert` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tests.services.test_cases import run_to_approval, submit
from tongban.documents import signing
from tongban.services import certificates
from tongban.services.audit import verify_all
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from tongban.store.models import Certificate

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")


def issue(users, **data) -> Certificate:
    case = run_to_approval(users, submit(users, data=data))
    return Certificate.objects.select_related("case__matter").get(case=case)


def signed(cert: Certificate) -> Certificate:
    """Tests other than test_issuing_signs_the_certificate must not depend on the one-line
    change in outputs.issue_certificate: sign here if issuing did not."""
    if not cert.signature:
        certificates.sign(cert)
        cert.save(update_fields=["signature", "key_id"])
    return cert


def keys(*ids: str) -> str:
    return ",".join(f"{k}:{signing.generate()[0]}" for k in ids)


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install poppler-utils zbar-tools)")


# --- issuing ---------------------------------------------------------------------------------


def test_issuing_signs_the_certificate(users):
    """REQUIRES outputs.issue_certificate to call certificates.sign(row) (see the report)."""
    cert = issue(users)
    assert cert.key_id.startswith("dev-"), "issued certificate is unsigned"
    ring = signing.from_settings()
    assert ring.check(certificates.signed_fields(cert), cert.key_id, cert.signature) == "ok"


def test_sign_without_any_key_refuses_rather_than_issue_unsigned(users):
    cert = signed(issue(users))
    with (
        override_settings(TONGBAN_CERT_KEYS="", TONGBAN_CERT_DEV_KEY=False),
        pytest.raises(Unavailable, match="TONGBAN_CERT_KEYS"),
    ):
        certificates.sign(cert)


def test_configuration_check_warns_about_dev_key_and_errors_without_keys():
    ids = {p.id for p in certificates.check_configuration()}
    assert "tongban.W101" in ids
    with override_settings(TONGBAN_CERT_KEYS="", TONGBAN_CERT_DEV_KEY=False):
        assert "tongban.E102" in {p.id for p in certificates.check_configuration()}
    with override_settings(TONGBAN_CERT_KEYS=keys("k1")):
        assert not {p.id for p in certificates.check_configuration()} & {"tongban.W101"}
    with override_settings(TONGBAN_CERT_KEYS="garbage"):
        assert "tongban.E101" in {p.id for p in certificates.check_configuration()}


# --- the PDF ---------------------------------------------------------------------------------


def test_pdf_embeds_cjk_font_and_its_qr_carries_a_valid_signature(users, tmp_path):
    need("pdffonts", "pdftoppm", "zbarimg")
    cert = signed(issue(users))
    data = certificates.pdf_bytes(cert)
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-32:]
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(data)
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "NotoSansCJKSC" in line]
    assert cjk and all(" yes yes " in line for line in cjk), fonts  # embedded, subset
    subprocess.run(["pdftoppm", "-png", "-r", "80", pdf, tmp_path / "page"], check=True)
    (png,) = tmp_path.glob("page*.png")
    qr = subprocess.run(
        ["zbarimg", "--raw", "-q", png], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert qr == certificates.qr_payload(cert)
    result = certificates.verify_offline(qr)
    assert result.ok and result.number == cert.number and result.signed.holder == "张三"
    assert certificates.public_status(cert.number, qr)["signature"] == "ok"


def test_pdf_without_font_says_how_to_install_it(users, tmp_path):
    cert = signed(issue(users))
    with (
        override_settings(TONGBAN_CJK_FONT=str(tmp_path / "missing.ttc")),
        pytest.raises(Unavailable, match="fonts-noto-cjk"),
    ):
        certificates.pdf_bytes(cert)


# --- tampering and rotation ------------------------------------------------------------------


def test_tampered_qr_payload_is_rejected(users):
    cert = signed(issue(users))
    payload = certificates.qr_payload(cert)
    for bad in (
        payload.replace("张三", "张四"),
        payload.replace(cert.number, cert.number[:-1] + "9"),
        payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB"),
        payload.replace(f"|{cert.key_id}|", "|nokey|"),
    ):
        assert not certificates.verify_offline(bad).ok
        status = certificates.public_status(cert.number, bad)
        assert status["status"] == "bad_signature"
        assert status["message"] == "签名无效，证照可能被篡改"
    # The bare signature from another certificate does not vouch for this one.
    other = signed(issue(users))
    assert certificates.public_status(cert.number, other.signature)["status"] == "bad_signature"
    assert certificates.public_status(cert.number, cert.signature)["signature"] == "ok"


def test_edited_row_no_longer_matches_its_signature(users):
    cert = signed(issue(users))
    Certificate.objects.filter(pk=cert.pk).update(valid_to=datetime(2030, 12, 31, tzinfo=TZ))
    status = certificates.public_status(cert.number, today=date(2026, 12, 5))
    assert status["status"] == "bad_signature"


def test_key_rotation_old_certificates_still_verify(users):
    a, b = keys("a"), keys("b")
    with override_settings(TONGBAN_CERT_KEYS=a):
        old = signed(issue(users))
    assert old.key_id == "a"
    with override_settings(TONGBAN_CERT_KEYS=f"{b},{a}"):  # b signs, a is retired
        new = signed(issue(users))
        assert new.key_id == "b"
        for cert in (old, new):
            assert certificates.verify_offline(certificates.qr_payload(cert)).ok
            assert certificates.public_status(cert.number, cert.signature)["signature"] == "ok"
    # A verifier holding only public keys checks both, with no private key at all.
    public = ",".join(
        f"{kid}:{signing.public_b64(priv)}" for kid, priv in signing.parse_private_keys(f"{a},{b}")
    )
    with override_settings(
        TONGBAN_CERT_KEYS="", TONGBAN_CERT_PUBLIC_KEYS=public, TONGBAN_CERT_DEV_KEY=False
    ):
        for cert in (old, new):
            assert certificates.verify_offline(certificates.qr_payload(cert)).ok


# --- public status ---------------------------------------------------------------------------


def test_status_by_dates_in_shanghai(users):
    cert = signed(issue(users))  # valid 2026-12-01 .. 2026-12-10
    by_day = {
        d: certificates.public_status(cert.number, today=date(2026, 12, d))["status"]
        for d in (1, 10, 11)
    }
    assert by_day == {1: "valid", 10: "valid", 11: "expired"}
    before = certificates.public_status(cert.number, today=date(2026, 11, 30))
    assert (before["status"], before["label"]) == ("not_yet_valid", "尚未生效")


def test_public_status_reveals_only_what_it_should(users):
    cert = signed(issue(users))
    status = certificates.public_status(cert.number, today=date(2026, 12, 5))
    assert status["status"] == "valid" and status["label"] == "有效"
    assert status["holder"] == "张*"
    assert status["issuer"] == "相城区住房和城乡建设局"
    assert status["grants"].startswith("准予在批准的地点")
    text = repr(status)
    for secret in ("张三", "13812345678", "湘城大街", cert.signature):
        assert secret not in text
    missing = certificates.public_status("苏相建占〔2026〕99999")
    assert missing["found"] is False and missing["label"] == "不存在"


def test_revoke_with_reason_shows_on_public_status(users):
    cert = signed(issue(users))
    with pytest.raises(Invalid):
        certificates.revoke(cert.number, "  ", users.approver_xiangcheng)
    with pytest.raises(Forbidden):
        certificates.revoke(cert.number, "申请人要求", users.zhangsan)  # sees it, may not revoke
    with pytest.raises(NotFound):
        certificates.revoke(cert.number, "申请人要求", users.lisi)
    certificates.revoke(cert.number, "施工提前结束，申请注销", users.approver_xiangcheng)
    status = certificates.public_status(cert.number, today=date(2026, 12, 5))
    assert (status["status"], status["label"]) == ("revoked", "已撤销")
    assert status["revoke_reason"] == "施工提前结束，申请注销"
    with pytest.raises(Conflict, match="不能重复撤销"):
        certificates.revoke(cert.number, "again", users.approver_xiangcheng)
    case = cert.case
    case.refresh_from_db()
    event = case.events.order_by("-seq").first()
    assert (event.kind, event.action) == ("certificate", "revoke_certificate")
    assert [f for _, f in verify_all([case.pk])] == [None]  # the chain still verifies


# --- web -------------------------------------------------------------------------------------


def test_public_page_works_logged_out_and_masks_holder(users):
    cert = signed(issue(users))
    client = Client()
    response = client.get(reverse("verify", args=[cert.number]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "张*" in page and "张三" not in page
    assert cert.name in page and "相城区住房和城乡建设局" in page
    assert any(label in page for label in ("有效", "尚未生效", "已过期"))
    sig = certificates.qr_payload(cert)
    assert "签名有效" in client.get(reverse("verify", args=[cert.number]), {"sig": sig}).text
    bad = client.get(reverse("verify", args=[cert.number]), {"sig": sig.replace("张三", "王五")})
    assert "签名无效，证照可能被篡改" in bad.text and "王五" not in bad.text
    assert "不存在" in client.get(reverse("verify", args=["无此编号"])).text


def test_download_only_for_the_holder_or_staff(users):
    cert = signed(issue(users))
    url = reverse("certificate_pdf", args=[cert.number])
    client = Client()
    client.force_login(users.lisi)
    assert client.get(url).status_code == 404
    client.force_login(users.zhangsan)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert Client().get(url).status_code == 302  # anonymous: to the login page


# --- the command line ------------------------------------------------------------------------


def test_cli_verify_revoke_and_pdf(users, tmp_path, capsys):
    cert = signed(issue(users))
    payload = certificates.qr_payload(cert)
    call_command("cert", "verify", payload)
    out = capsys.readouterr().out
    assert cert.number in out and cert.key_id in out and "签名有效" in out
    with pytest.raises(CommandError) as exc:
        call_command("cert", "verify", payload.replace("张三", "张四"))
    assert exc.value.returncode == 1 and "签名无效" in str(exc.value)
    target = tmp_path / "out.pdf"
    call_command("cert", "pdf", cert.number, "-o", str(target))
    assert target.read_bytes().startswith(b"%PDF-")
    call_command(
        "cert", "revoke", cert.number, "--reason", "核查发现材料不实", "--as", "approver_xiangcheng"
    )
    assert Certificate.objects.get(pk=cert.pk).revoke_reason == "核查发现材料不实"
    with pytest.raises(CommandError, match="不能重复撤销"):
        call_command("cert", "revoke", cert.number, "--reason", "x", "--as", "approver_xiangcheng")


def test_cli_verify_offline_exit_codes(tmp_path):
    """A separate process with public keys only and no usable database: exit 0 / 1."""
    ring = signing.Keyring.build(keys("k2026"))
    fields = signing.Signed.of(
        "苏相建占〔2026〕00007", "road_occupation", "李四", None, None, timezone.now()
    )
    payload = signing.encode_payload(fields, *ring.sign(fields))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_SECRET_KEY": "offline-verifier-0123456789abcdefghijklmnopqrstuvwxyz",
        "TONGBAN_DEBUG": "",
        "TONGBAN_DEMO": "",
        "TONGBAN_CERT_KEYS": "",
        "TONGBAN_CERT_PUBLIC_KEYS": f"k2026:{signing.public_b64(ring.signer[1])}",
        "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'such.sqlite3'}",
    }
    cmd = [sys.executable, "-m", "tongban", "cert", "verify"]
    ok = subprocess.run([*cmd, payload], env=env, capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "苏相建占〔2026〕00007" in ok.stdout and "k2026" in ok.stdout and "签名有效" in ok.stdout
    bad = subprocess.run(
        [*cmd, payload.replace("李四", "王五")], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert bad.returncode == 1 and "签名无效" in bad.stderr
    stdin = subprocess.run(
        [*cmd, "-"], input=payload + "\n", env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert stdin.returncode == 0, stdin.stderr


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
