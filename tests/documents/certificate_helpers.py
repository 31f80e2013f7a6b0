"""Shared helpers for the certificate tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.services.test_cases import run_to_approval, submit
from tongban.documents import signing
from tongban.services import certificates
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
