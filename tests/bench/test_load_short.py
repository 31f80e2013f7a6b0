"""The short load run in CI: `bench/load.py --seconds 10 --json` — gunicorn (2 workers) +
`tongban worker` + PostgreSQL, every client kind at once — must answer every request
without an error. Only on PostgreSQL; its own database (tongban_load_<pid>), dropped at the
end. No time is asserted: the figures are the bench's business."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("TONGBAN_DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="the load run needs PostgreSQL (TONGBAN_DATABASE_URL); skipped on SQLite",
    ),
    pytest.mark.timeout(230),
]


def test_short_load_run_has_no_errors():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    url = f"postgres://postgres@127.0.0.1:5432/tongban_load_{os.getpid()}"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--seconds", "10", "--json"]
        + ["--pg-url", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=220,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"load.py printed nothing (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert result["requests"] > 0 and result["errors"] == 0, result.get("error_samples")
    idle = [name for name, e in result["endpoints"].items() if not e["requests"]]
    assert not idle, f"endpoints never exercised: {idle}"
