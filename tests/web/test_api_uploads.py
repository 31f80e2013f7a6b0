"""The JSON API end to end through Django's test client: uploads and the token command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.web.api_helpers import Api, assert_error, auth, submit
from tongban.store.models import ApiToken, Case, Upload

# --- uploads -------------------------------------------------------------------------------


def _upload(client, user, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/uploads",
        {"file": SimpleUploadedFile(name, content)},
        headers=auth(user),
    )


def test_upload_checks_content_and_the_ref_submits(client, users):
    from tongban.services.demo import sample_pdf

    fake = _upload(client, users.zhangsan, "plan.pdf", b"just some text, not a PDF")
    assert "file" in assert_error(fake, 400)["fields"]
    pdf = sample_pdf("api upload test")
    r = _upload(client, users.zhangsan, "平面图.pdf", pdf)
    assert r.status_code == 201, r.content
    ref = r.json()
    assert ref["type"] == "pdf" and ref["size"] == len(pdf) and ref["name"] == "平面图.pdf"
    assert Upload.objects.filter(sha256=ref["sha256"]).exists()
    api = Api(client, users.zhangsan)
    r = submit(api, {"site_plan": [ref], "id_copy": [{"sha256": ref["sha256"], "size": 1}]})
    assert r.status_code == 201, r.content
    stored = Case.objects.get(pk=r.json()["id"]).materials
    assert stored["id_copy"][0]["size"] == len(pdf)  # from our record, not the request
    assert_error(client.post("/api/uploads", {}, headers=auth(users.zhangsan)), 400)
    anonymous = client.post("/api/uploads", {"file": b""})
    assert_error(anonymous, 401)


def test_upload_refuses_truncated_or_borrowed_headers(client, users):
    """A file that only starts like a PDF or an image, or was cut short, is refused."""
    import io

    import segno

    from tongban.services.demo import sample_pdf

    png = io.BytesIO()
    segno.make("tongban").save(png, kind="png", scale=4)
    pdf = sample_pdf("whole")
    for name, data in [
        ("a.pdf", b"%PDF-"),
        ("cut.pdf", pdf[: len(pdf) // 2]),
        ("cut.png", png.getvalue()[:40]),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200),
    ]:
        body = assert_error(_upload(client, users.zhangsan, name, data), 400)
        assert "损坏" in body["message"] or "不符" in body["message"], (name, body)
    assert _upload(client, users.zhangsan, "qr.png", png.getvalue()).status_code == 201
    assert _upload(client, users.zhangsan, "whole.pdf", pdf).status_code == 201


def test_upload_over_the_limit_is_413(client, users, monkeypatch):
    from tongban.services import uploads
    from tongban.services.demo import sample_pdf

    monkeypatch.setattr(uploads, "MAX_UPLOAD", 100)
    r = _upload(client, users.zhangsan, "big.pdf", sample_pdf("too big for the limit"))
    body = assert_error(r, 413, "too_large")
    assert "file" in body["fields"]


# --- the token command ---------------------------------------------------------------------


def test_token_command_creates_lists_and_revokes(client, users):
    out, err = StringIO(), StringIO()
    call_command(
        "token", "create", "clerk_yangchenghu", "--name", "对接系统", stdout=out, stderr=err
    )
    token = out.getvalue().strip()
    assert token.startswith("tb_") and "只显示这一次" in err.getvalue()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/worklist", headers=headers).status_code == 200
    assert ApiToken.objects.get(prefix=token[:8]).last_used_at is not None

    out = StringIO()
    call_command("token", "list", "clerk_yangchenghu", stdout=out)
    assert token[:8] in out.getvalue() and "对接系统" in out.getvalue()
    assert token not in out.getvalue()

    out = StringIO()
    call_command("token", "revoke", "clerk_yangchenghu", token[:8], stdout=out)
    assert_error(client.get("/api/worklist", headers=headers), 401)
    out = StringIO()
    call_command("token", "list", "clerk_yangchenghu", stdout=out)
    assert "已吊销" in out.getvalue()

    with pytest.raises(CommandError):
        call_command("token", "revoke", "clerk_canglang", token[:8])
    with pytest.raises(CommandError):
        call_command("token", "create", "no_such_user")
