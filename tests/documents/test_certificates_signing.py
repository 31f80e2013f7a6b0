"""Certificates: signed at issue, the PDF with CJK font and QR, tampering and key rotation."""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import override_settings

from tests.documents.certificate_helpers import (
    TZ,
    issue,
    keys,
    need,
    signed,
)
from tongban.documents import signing
from tongban.services import certificates
from tongban.services.errors import Unavailable
from tongban.store.models import Certificate

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
    # 150 dpi: the page as printed and photographed (the code is the verify address with
    # the signed payload, a version 14 QR code of 0.6 mm modules).
    subprocess.run(["pdftoppm", "-png", "-r", "150", pdf, tmp_path / "page"], check=True)
    (png,) = tmp_path.glob("page*.png")
    qr = subprocess.run(
        ["zbarimg", "--raw", "-q", png], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert qr == certificates.qr_text(cert)
    base = settings.TONGBAN_PUBLIC_URL
    assert qr.startswith(f"{base}/verify/{quote(cert.number, safe='')}?sig=TB1%7C")
    scan = certificates.read_scan(qr)
    assert (scan.number, scan.payload) == (cert.number, certificates.qr_payload(cert))
    result = certificates.verify_offline(scan.payload)
    assert result.ok and result.number == cert.number and result.signed.holder == "张三"
    assert certificates.public_status(cert.number, scan.payload)["signature"] == "ok"


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


def test_configuration_check_warns_when_qr_codes_would_print_a_local_address():
    with override_settings(DEBUG=False, DEMO=False, TONGBAN_PUBLIC_URL="http://127.0.0.1:8000"):
        assert "tongban.W103" in {p.id for p in certificates.check_configuration()}
    with override_settings(DEBUG=False, DEMO=True, TONGBAN_PUBLIC_URL="http://127.0.0.1:8000"):
        assert "tongban.W103" not in {p.id for p in certificates.check_configuration()}
    with override_settings(DEBUG=False, DEMO=False, TONGBAN_PUBLIC_URL="https://x.example.cn"):
        assert "tongban.W103" not in {p.id for p in certificates.check_configuration()}
