"""Migration 0004: certificate validity dates become instants, and certificates signed
over dates before it still verify.

Run forward on a fresh database in a child process (a throwaway SQLite file, or a
throwaway PostgreSQL database beside the test database when the suite runs on
PostgreSQL): the state before 0004 is built with the historical models, then
`migrate` runs to the latest migration and the row is read back through the services.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json
from datetime import date, datetime, timezone

import django

django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

call_command("migrate", "store", "0003_bundles", verbosity=0)
apps = MigrationExecutor(connection).loader.project_state(("store", "0003_bundles")).apps
User, Org = apps.get_model("auth", "User"), apps.get_model("store", "Org")
Version, Case = apps.get_model("store", "MatterVersion"), apps.get_model("store", "Case")
Certificate = apps.get_model("store", "Certificate")

from tongban.documents import signing

now = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
user = User.objects.create(username="u")
org = Org.objects.create(code="320507", name="相城区", level="district", path="320507")
version = Version.objects.create(
    code="road_occupation", version=1, name="x", digest="d", file="f", source="", spec_json="{}"
)
case = Case.objects.create(
    matter=version, matter_code="road_occupation", state="approved", org=org,
    org_path="320507", j_district="320507", applicant=user, created_by=user,
    submitted_at=now, entered_at=now, updated_at=now, last_hash="0" * 64,
)
old = signing.Signed.of(
    "苏相建占〔2026〕00001", "road_occupation", "张三", date(2026, 12, 1), date(2026, 12, 10), now
)
key_id, signature = signing.from_settings().sign(old)
common = dict(case=case, key="permit", name="许可证", matter_code="road_occupation",
              holder="张三", issued_at=now, key_id=key_id, signature=signature)
Certificate.objects.create(number=old.number, valid_from=date(2026, 12, 1),
                           valid_to=date(2026, 12, 10), **common)
Certificate.objects.create(number="open-ended", valid_from=None, valid_to=None,
                           **{**common, "signature": ""})

call_command("migrate", verbosity=0)

from tongban.services import certificates
from tongban.store.models import Certificate as Current

cert = Current.objects.get(number=old.number)
payload = signing.encode_payload(old, key_id, signature)
bare = Current.objects.get(number="open-ended")
print(json.dumps({
    "valid_from": cert.valid_from.isoformat(),
    "valid_to": cert.valid_to.isoformat(),
    "timed": cert.validity_timed,
    "same_payload": certificates.qr_payload(cert) == payload,
    "stored_ok": signing.from_settings().check(
        certificates.signed_fields(cert), cert.key_id, cert.signature),
    "bare": [bare.valid_from, bare.valid_to],
}))
"""


def _database_url(tmp_path: Path) -> tuple[str, str | None]:
    """(URL for the child, PostgreSQL database to drop afterwards or None)."""
    url = os.environ.get("TONGBAN_DATABASE_URL", "")
    if not url or dj_database_url.parse(url)["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{tmp_path / 'migrate.sqlite3'}", None
    import psycopg

    name = f"tongban_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, name


def _drop(url: str, name: str) -> None:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_dates_become_whole_beijing_days_and_old_signatures_still_verify(tmp_path):
    url, created = _database_url(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tongban.settings_test",
        "TONGBAN_DATABASE_URL": url,
        "TONGBAN_VAR": str(tmp_path),
    }
    try:
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, cwd=ROOT
        )
    finally:
        if created:
            _drop(url, created)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["valid_from"] in ("2026-11-30T16:00:00+00:00", "2026-12-01T00:00:00+08:00")
    assert result["valid_to"] in ("2026-12-10T15:59:59+00:00", "2026-12-10T23:59:59+08:00")
    assert result["timed"] is False
    assert result["same_payload"] is True, "the QR of an old certificate changed"
    assert result["stored_ok"] == "ok", "an old certificate no longer matches its signature"
    assert result["bare"] == [None, None]
