"""Settings of bench/web.py, shared by its helper modules (_web_db, _web_clients, _web_report)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/tongban_bench_web"
BENCH_SECRET = "bench-web-only-key-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
WORKERS = 2
PAGE = 50
MAX_PAGES = 10  # a staff client reads at most this many pages of one worklist, then moves on
REQUEST_TIMEOUT = 30.0
SHOW_ERRORS = 5
TARGET_P95_MS = 50.0
TARGET_GROWTH = 2.0
QUICK_BUDGET = 53.0  # seconds for everything up to the EXPLAIN and the cleanup
FILL_S_PER_ROW = 1.7e-4  # a fill's cost on a busy 2-core machine, for --quick's planning
MATTER = "road_occupation"
APPLICANTS = ("zhangsan", "lisi")
MULTI = "bench_multi_seat"  # a synthetic staff user holding the seats of the three largest


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
