"""The short crash run in CI: `bench/crash.py --quick --json` (4 kill -9 of gunicorn and the
worker under load; a 5 s PostgreSQL stop on a private throwaway cluster when running as root
with PostgreSQL's initdb) and nothing acknowledged may be lost or doubled.

Only on PostgreSQL (TONGBAN_DATABASE_URL): the bench needs a server it can kill around. It
uses its own cluster or its own database name (tongban_crash_<pid>), never the test
databases. No time is asserted: the figures are the bench's business."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZERO = ("lost", "duplicated", "audit_failures", "outbox_lost", "outbox_repeated", "number_gaps")

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("TONGBAN_DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="the crash run needs PostgreSQL (TONGBAN_DATABASE_URL); skipped on SQLite",
    ),
    pytest.mark.timeout(280),
]


@pytest.fixture(scope="module")
def crash() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "crash.py"), "--quick", "--json", "--seed", "7"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=270,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"crash.py printed nothing (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError:
        pytest.fail(f"no JSON from crash.py (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result["_report"] = proc.stdout[-3000:]
    return result


def test_nothing_acknowledged_is_lost_or_doubled(crash):
    assert crash["kills"] > 0
    assert crash["acknowledged"] > 0, crash["_report"]
    assert {k: crash[k] for k in ZERO} == dict.fromkeys(ZERO, 0), crash["_report"]
    assert crash["wrong_case_id"] == 0
    assert crash["refused_during_outage_but_stored"] == 0


def test_database_stop_answers_503_in_chinese_and_recovers(crash):
    stop = crash["db_stop"]
    if "skipped" in stop:
        pytest.skip(f"PostgreSQL was not stopped: {stop['skipped']}")
    assert stop["probes"] > 0
    assert stop["all_503"], stop
    assert stop["all_chinese"] and stop["all_retry_after"], stop
    resumed = [e for e in crash["events"] if e["kind"] == "db_stop"]
    assert resumed and resumed[0]["resumed_s"] is not None, "the service did not come back"
