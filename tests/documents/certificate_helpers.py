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
    """Fail, not skip, without the tools: a skipped PDF check would hide a missing install
    step (.ci/run installs them)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"needs {', '.join(missing)} (apt-get install poppler-utils zbar-tools)")


def offline_verifier(tmp_path: Path, number: str, matter: str, holder: str):
    """A payload signed by a fresh key, and the environment of a separate process that
    holds only that key's public half and no usable database: `tongban cert verify` there
    must work offline."""
    import os

    from django.utils import timezone

    ring = signing.Keyring.build(keys("k2026"))
    fields = signing.Signed.of(number, matter, holder, None, None, timezone.now())
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
    return payload, env
