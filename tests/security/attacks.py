"""Shared by the attack tests (test_attacks_*.py)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.services.demo import sample_pdf

SESSION = settings.SESSION_COOKIE_NAME
CSRF_PAGE = "请求已过期或来源不明"  # templates/403_csrf.html


def fresh_token() -> str:
    return secrets.token_hex(16)  # 32 characters: Django accepts the bare secret as token


def _road_form() -> dict:
    return {
        "f-applicant_name": "测试",
        "f-contact_phone": "13800000001",
        "f-location": "测试路 1 号",
        "f-area": "30",
        "f-purpose": "施工",
        "f-start_date": "2026-12-01",
        "f-end_date": "2026-12-10",
        "f-safety_commitment": "on",
        "intent": "submit",
    }


def _road_files() -> dict:
    return {
        "m-site_plan": SimpleUploadedFile("plan.pdf", sample_pdf("plan"), "application/pdf"),
        "m-id_copy": SimpleUploadedFile("id.pdf", sample_pdf("id"), "application/pdf"),
    }


def _zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.sh", "#!/bin/sh\necho owned\n")
    return buf.getvalue()


def _api_road() -> dict:
    return {
        "applicant_name": "测试",
        "contact_phone": "13800000002",
        "location": "测试路 2 号",
        "area": "30",
        "purpose": "施工",
        "start_date": "2026-12-01",
        "end_date": "2026-12-10",
        "safety_commitment": True,
    }
