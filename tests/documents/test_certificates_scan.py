"""The QR code is an address: <TONGBAN_PUBLIC_URL>/verify/<number>?sig=<signed payload>.
Scanning it opens the verify page; the /verify/ box takes whatever a scanner app gave
(that address, an old bare `TB1|…` payload, or a number); `tongban cert verify` checks
either offline."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from tests.documents.certificate_helpers import ROOT, issue, need, offline_verifier, signed
from tongban.documents import pdf as pdf_doc
from tongban.services import certificates
from tongban.services.errors import Invalid
from tongban.settings import _public_url

BASE = "https://zw.example.gov.cn/tongban"


def local(url: str) -> str:
    """The address a phone would open, as a path for the test client."""
    parts = urlsplit(url)
    return parts.path.removeprefix("/tongban") + "?" + parts.query


# --- the address -----------------------------------------------------------------------------


def test_qr_text_is_the_verify_address_carrying_the_unchanged_payload(users):
    cert = signed(issue(users))  # 苏相建占〔2026〕00001, holder 张三
    payload = certificates.qr_payload(cert)
    assert payload.startswith("TB1|") and "张三" in payload  # the signed line as before
    with override_settings(TONGBAN_PUBLIC_URL=BASE):
        text = certificates.qr_text(cert)
    number = quote(cert.number, safe="")
    assert text == f"{BASE}/verify/{number}?sig={quote(payload, safe='')}"
    assert text.isascii() and "|" not in text
    scan = certificates.read_scan(text)
    assert (scan.number, scan.payload) == (cert.number, payload)
    assert certificates.verify_offline(scan.payload).ok


def test_public_url_setting_is_checked():
    assert _public_url("https://zw.example.gov.cn/tongban/") == BASE
    assert _public_url(" http://127.0.0.1:8000 ") == "http://127.0.0.1:8000"
    for bad in ("zw.example.gov.cn", "ftp://zw.example.gov.cn", "https://", "http://h:port"):
        with pytest.raises(ImproperlyConfigured, match="http"):
            _public_url(bad)
    with pytest.raises(ImproperlyConfigured, match="query"):
        _public_url("https://zw.example.gov.cn/?a=1")


def test_read_scan_takes_an_address_a_payload_or_a_number(users):
    cert = signed(issue(users))
    payload = certificates.qr_payload(cert)
    read = certificates.read_scan
    assert read(f"QR-Code:{certificates.qr_text(cert)}\n").payload == payload
    assert read(f"/verify/{quote(cert.number)}?sig={quote(payload)}").payload == payload
    assert read(f"http://other.example/verify/{cert.number}/") == certificates.Scan(cert.number)
    assert read(f"  {payload}  ") == certificates.Scan(cert.number, payload)
    assert read(cert.number) == certificates.Scan(cert.number)
    garbage = {
        "": "请粘贴",
        "https://example.com/news/1": "不是证照核验地址",
        "TB1|缺字段|x": "不完整",
        "这是一段不相干的文字 hello": "无法识别",
        "a/b": "无法识别",
        "x" * 5000: "太长",
    }
    for text, message in garbage.items():
        with pytest.raises(Invalid, match=message):
            read(text)


# --- the pages -------------------------------------------------------------------------------


def test_scanned_address_opens_the_verify_page_signature_valid(users):
    cert = signed(issue(users))
    with override_settings(TONGBAN_PUBLIC_URL=BASE):
        text = certificates.qr_text(cert)
    page = Client().get(local(text))
    assert page.status_code == 200
    assert "签名有效：二维码内容与登记信息一致" in page.text and "张*" in page.text
    forged = text.replace(quote("张三", safe=""), quote("王五", safe=""))
    assert "签名无效，证照可能被篡改" in Client().get(local(forged)).text


def test_paste_box_is_public_and_leads_to_the_result(users):
    cert = signed(issue(users))
    payload = certificates.qr_payload(cert)
    client = Client()  # not signed in
    form = client.get("/verify/")
    assert form.status_code == 200 and 'name="q"' in form.text and "扫码得到的内容" in form.text
    for text in (certificates.qr_text(cert), payload):
        r = client.get("/verify/", {"q": text})
        assert r.status_code == 302
        assert r["Location"] == f"/verify/{quote(cert.number)}?sig={quote(payload, safe='')}"
        assert "签名有效" in client.get(r["Location"]).text
    r = client.get("/verify/", {"q": f" {cert.number} "}, follow=True)
    assert r.redirect_chain == [(f"/verify/{quote(cert.number)}", 302)]
    assert cert.name in r.text and "签名有效" not in r.text
    r = client.get("/verify/", {"q": "320507999999"}, follow=True)
    assert "未查到该编号的证照" in r.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "请粘贴扫码得到的内容或输入证照编号"),
        ("https://example.com/news/1", "这个网址不是证照核验地址"),
        ("TB1|残缺", "二维码内容不完整或已损坏"),
        ("<script>alert(1)</script> 你好", "无法识别"),
    ],
)
def test_paste_box_explains_wrong_input(world, text, message):
    r = Client().get("/verify/", {"q": text})
    assert r.status_code == 400
    assert message in r.text and 'role="alert"' in r.text
    assert "<script>alert(1)</script>" not in r.text  # echoed back escaped


def test_old_bare_payload_qr_still_verifies(users, tmp_path):
    """Certificates printed before the QR held an address carry the bare `TB1|…` line."""
    need("zbarimg")
    cert = signed(issue(users))
    png = tmp_path / "old.png"
    png.write_bytes(pdf_doc.qr_png(certificates.qr_payload(cert)))
    old = subprocess.run(
        ["zbarimg", "--raw", "-q", png], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert old == certificates.qr_payload(cert)
    assert certificates.public_status(cert.number, old)["signature"] == "ok"
    r = Client().get("/verify/", {"q": old}, follow=True)
    assert "签名有效：二维码内容与登记信息一致" in r.text
    call_command("cert", "verify", old)


# --- the command line ------------------------------------------------------------------------


def test_cli_verify_takes_the_address(users, capsys):
    cert = signed(issue(users))
    text = certificates.qr_text(cert)
    call_command("cert", "verify", text)
    out = capsys.readouterr().out
    assert cert.number in out and "签名有效" in out
    with pytest.raises(CommandError, match="签名无效") as exc:
        call_command("cert", "verify", text.replace(quote("张三", safe=""), quote("张四", safe="")))
    assert exc.value.returncode == 1
    with pytest.raises(CommandError, match="没有签名"):
        call_command("cert", "verify", certificates.verify_url(cert.number))
    other = f"{certificates.verify_url('苏相建占〔2026〕99999')}?{urlsplit(text).query}"
    with pytest.raises(CommandError, match="与签名内容"):
        call_command("cert", "verify", other)


def test_cli_verify_address_offline(tmp_path):
    """A separate process with public keys only and no database, given the whole address."""
    payload, env = offline_verifier(
        tmp_path, "320507000042", "vehicle_pass", "苏州阳澄湖农产品有限公司"
    )
    url = f"{BASE}/verify/320507000042?sig={quote(payload, safe='')}"
    cmd = [sys.executable, "-m", "tongban", "cert", "verify"]
    ok = subprocess.run([*cmd, url], env=env, capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "320507000042" in ok.stdout and "签名有效" in ok.stdout
    stdin = subprocess.run(
        [*cmd, "-"], input=f"QR-Code:{url}\n", env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert stdin.returncode == 0, stdin.stderr
