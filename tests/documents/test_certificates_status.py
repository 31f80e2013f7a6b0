"""Certificates: public status and verification page, downloads, the `tongban cert` command."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.documents.certificate_helpers import (
    ROOT,
    issue,
    offline_verifier,
    signed,
)
from tongban.services import certificates
from tongban.services.audit import verify_all
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.store.models import Certificate

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
    payload, env = offline_verifier(tmp_path, "苏相建占〔2026〕00007", "road_occupation", "李四")
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
