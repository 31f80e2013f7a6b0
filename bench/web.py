#!/usr/bin/env python
"""Benchmark: the web stack under load — gunicorn (2 workers) on PostgreSQL, applicants
submitting cases through the JSON API while staff page through their worklists.

    .venv/bin/python bench/web.py [--quick] [--json] [--pg-url URL] [--sizes 10000,100000,...]
                                  [--seconds S] [--submitters N] [--staff-clients N]
                                  [--staff-users N] [--no-multi-seat] [--conn-max-age S]
                                  [--strict] [--keep]

What it does, in one process plus the server it starts:

1. drops and recreates a dedicated PostgreSQL database on 127.0.0.1 (default
   `tongban_bench_web`), migrates it, loads the catalog (`catalog/`), builds the demo world
   (org tree and users, no demo cases) and makes API tokens for two applicants;
2. starts `tongban serve --workers 2` (gunicorn, sync workers) on a free loopback port with
   the environment pointing at that database (TONGBAN_DEBUG=0, a bench secret key, a
   throwaway certificate key made as `tongban cert keygen` makes it); it boots while the
   first fill runs; then /healthz, two PDF materials uploaded once (POST /api/uploads) and
   one submission to prove the request body;
3. for each size (10 k, 100 k, 1 M cases; --quick: 10 k and 100 k) fills the case table up
   to that many cases with synthetic cases in raw SQL (bench/_fill.py: every matter and
   state, spread over the demo org tree, realistic deadlines), runs VACUUM ANALYZE (--quick:
   ANALYZE), and after the first fill picks the staff users with the largest worklists —
   always including a countersigner (two branches: role and countersign state) — plus
   `bench_multi_seat`, a synthetic staff member holding the seats of the three largest
   (three branches; --no-multi-seat leaves it out). Then, at each size:
   - a mixed phase: submitters POST /api/cases (road_occupation, valid data, the uploaded
     material references, a fresh idempotency key, a random community) while staff clients
     GET /api/worklist?limit=50&offset=… page by page (up to 10 pages, then the next user),
     all closed-loop: requests/s and p50/p95/p99 per endpoint, measured by the client (so
     waiting for one of the two workers counts), and the gunicorn workers' CPU per request;
   - a worklist phase: as many staff clients as server workers, nothing else: the worklist
     p50/p95/p99 the targets are about;
4. EXPLAIN ANALYZE of each chosen user's worklist query at the largest size (first page,
   and the 10th): time, the indexes used, rows read, and the sorts (a sort of every match
   is what does not scale); the slowest plan is printed;
5. stops gunicorn (SIGTERM, then SIGKILL of its process group after 15 s) and drops the
   database (unless --keep). A hard time limit (SIGALRM: 150 s with --quick, 45 min
   otherwise) ends a stuck run, cleanup included; every request has a 30 s timeout.

Any response other than 2xx — or no response — is an error; errors are counted per endpoint
and the first few are printed. Targets: worklist p95 ≤ 50 ms at every size, growing at most
2× from the smallest to the largest size; zero errors. --strict exits 1 when one is missed.

--quick: sizes 10 k and 100 k, ANALYZE instead of VACUUM ANALYZE, phases of at most 3 s
after 0.5 s warm-up, shortened (to 1.5 s) when setup was slow, to finish in about a minute;
the full run uses 20 s mixed and 15 s worklist phases after 2 s warm-up (about 6 minutes).
--conn-max-age S runs the server with persistent database connections (an experiment; the
project's setting is 0). --json prints exactly one JSON object as the last line of stdout.

Absolute latencies depend on what else the machine runs (the report shows the load
average); the gunicorn CPU per request and the EXPLAIN times depend on it much less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the _web_* helpers

from _web_clients import Server, _materials, _phase  # noqa: E402
from _web_config import (  # noqa: E402
    APPLICANTS,
    DEFAULT_PG_URL,
    FILL_S_PER_ROW,
    MULTI,
    QUICK_BUDGET,
    ROOT,
    WORKERS,
    _log,
)
from _web_db import (  # noqa: E402
    _choose_staff,
    _communities,
    _environment,
    _explain,
    _multi_seat_user,
    _pg_params,
    _pg_recreate,
    _pg_settings,
    _setup_django,
    _tokens,
    _vacuum_analyze,
    _worklist_sizes,
)
from _web_report import _fmt, _report  # noqa: E402


def _plan(args) -> dict:
    if args.quick:
        plan = {
            "sizes": [10_000, 100_000],
            "mixed": 3.0,
            "worklist": 3.0,
            "warmup": 0.5,
            "budget": 150,
        }
    else:
        plan = {
            "sizes": [10_000, 100_000, 1_000_000],
            "mixed": 20.0,
            "worklist": 15.0,
            "warmup": 2.0,
            "budget": 45 * 60,
        }
    if args.sizes:
        plan["sizes"] = sorted({int(s.replace("_", "")) for s in args.sizes.split(",")})
    if args.seconds:
        plan["mixed"] = plan["worklist"] = args.seconds
    return plan


class BudgetExceeded(Exception):
    pass


def run(args, plan: dict, started: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="tongban-bench-web-"))
    server: Server | None = None
    result: dict = {"notes": []}
    try:
        _log(f"recreating database {_pg_params(args.pg_url)['dbname']} …")
        _pg_recreate(args.pg_url)
        env = _environment(args, tmp)
        setup = _setup_django()
        _log(f"migrated, catalog loaded, demo world built ({setup})")
        sys.path.insert(0, str(ROOT / "bench"))
        import _fill
        from django.contrib.auth import get_user_model
        from django.db import connection

        result["settings"] = _pg_settings()
        world = _fill.World.from_django()
        User = get_user_model()
        applicants = [User.objects.get(username=n) for n in APPLICANTS]
        submit_tokens = list(_tokens(applicants).values())
        communities = _communities()

        server_env = dict(env)
        if args.conn_max_age is not None:  # override the project's TONGBAN_CONN_MAX_AGE (60)
            shim = tmp / "settings_shim"
            shim.mkdir()
            (shim / "bench_web_settings.py").write_text(
                "from tongban.settings import *  # noqa: F403\n"
                f"DATABASES['default']['CONN_MAX_AGE'] = {args.conn_max_age}  # noqa: F405\n"
            )
            server_env["DJANGO_SETTINGS_MODULE"] = "bench_web_settings"
            server_env["PYTHONPATH"] = os.pathsep.join([str(shim), str(ROOT)])
            result["notes"].append(
                f"server run with CONN_MAX_AGE={args.conn_max_age} (persistent database"
                " connections), instead of the project's setting"
            )
        server = Server(server_env, tmp)  # boots while the first fill runs
        refs: dict | None = None
        ready_s = 0.0

        staff_users = None
        staff: list[dict] = []
        sizes_out = []
        for i, size in enumerate(plan["sizes"]):
            have = _fill.count()
            t0 = time.perf_counter()
            fill = _fill.fill(world, size - have, seed=i + 1, log=_log)
            fill["vacuum_analyze_s"] = _vacuum_analyze(full=not args.quick)
            fill["seconds"] = round(time.perf_counter() - t0, 2)
            cases = _fill.count()
            _log(f"{cases:,} cases in the database (fill {fill})")
            if staff_users is None:
                staff_users = _choose_staff(args.staff_users)
                if args.multi_seat:
                    staff_users.append(_multi_seat_user(staff_users[:3]))
                tokens = _tokens(staff_users)
                staff = [
                    {"username": u.username, "token": tokens[u.username], "todo": 0}
                    for u in staff_users
                ]
            todo = _worklist_sizes(staff_users)
            for s in staff:
                s["todo"] = todo[s["username"]]
            connection.close()  # nothing of ours holds the database during the phases
            if refs is None:
                ready_s = server.wait_ready()
                _log(
                    f"gunicorn ({WORKERS} workers) answering on 127.0.0.1:{server.port}"
                    f" {ready_s:.1f} s after the fill"
                )
                refs = _materials(server.port, submit_tokens[0], communities)
            phase_s = dict(mixed=plan["mixed"], worklist=plan["worklist"])
            if args.quick:  # keep the whole run within a minute on a slow machine
                left = QUICK_BUDGET - (time.perf_counter() - started)
                later = sum(
                    (b - a) * FILL_S_PER_ROW
                    for a, b in zip(plan["sizes"][i:], plan["sizes"][i + 1 :], strict=False)
                )
                per = (left - later) / (len(plan["sizes"]) - i) / 2 - plan["warmup"] - 0.5
                per = min(plan["mixed"], max(1.5, per))
                phase_s = dict(mixed=per, worklist=per)
            common = dict(
                submit_tokens=submit_tokens,
                communities=communities,
                refs=refs,
                staff=staff,
                warmup=plan["warmup"],
            )
            _log(
                f"  mixed phase: {args.submitters} submitters + {args.staff_clients} staff clients,"
                f" {phase_s['mixed']:.1f} s"
            )
            mixed = _phase(
                server,
                seconds=phase_s["mixed"],
                submitters=args.submitters,
                stagers=args.staff_clients,
                **common,
            )
            _log(f"  worklist phase: {WORKERS} staff clients, {phase_s['worklist']:.1f} s")
            only = _phase(
                server, seconds=phase_s["worklist"], submitters=0, stagers=WORKERS, **common
            )
            entry = {
                "size": size,
                "cases": cases,
                "fill": fill,
                "worklist_sizes": todo,
                "mixed": mixed,
                "worklist_only": only,
            }
            sizes_out.append(entry)
            _log(f"  mixed    submit   {_fmt(mixed['endpoints'].get('submit'))}")
            _log(f"  mixed    worklist {_fmt(mixed['endpoints'].get('worklist'))}")
            _log(f"  worklist only     {_fmt(only['endpoints'].get('worklist'))}")
        result["sizes"] = sizes_out
        result["staff"] = [{"username": s["username"], "todo": s["todo"]} for s in staff]
        _log("EXPLAIN ANALYZE of the worklist queries …")
        result["explain"] = _explain(staff_users)
        result["setup"] = {**setup, "server_ready_s": round(ready_s, 2)}
        result["server_log_tail"] = server.tail(5)
    finally:
        if server is not None:
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        if args.keep:
            _log(f"kept database {_pg_params(args.pg_url)['dbname']} and {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                _pg_recreate(args.pg_url, drop_only=True)
            except Exception as exc:  # noqa: BLE001
                _log(f"could not drop the bench database: {exc}")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="sizes 10k and 100k, 3 s phases (whole run about a minute)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    p.add_argument("--sizes", help="comma-separated case counts (default 10000,100000,1000000)")
    p.add_argument("--seconds", type=float, help="seconds per phase (default 20/15, quick 3)")
    p.add_argument("--submitters", type=int, default=3, help="submitting clients (default 3)")
    p.add_argument(
        "--staff-clients",
        type=int,
        default=3,
        help="worklist clients in the mixed phase (default 3)",
    )
    p.add_argument(
        "--staff-users",
        type=int,
        default=6,
        help="staff users whose worklists are read (default 6)",
    )
    p.add_argument(
        "--no-multi-seat",
        dest="multi_seat",
        action="store_false",
        help=f"leave out {MULTI}, who holds the seats of the three largest worklists",
    )
    p.add_argument(
        "--conn-max-age",
        type=int,
        metavar="SECONDS",
        help="run the server with this CONN_MAX_AGE instead of the project's (60; 0 = a new"
        " connection per request)",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the database and temp folder")
    args = p.parse_args(argv)
    _pg_params(args.pg_url)  # loopback only, a database named

    plan = _plan(args)
    started = time.perf_counter()

    def _alarm(signum, frame):
        if signum == signal.SIGTERM:
            raise BudgetExceeded("terminated (SIGTERM)")
        raise BudgetExceeded(f"the run exceeded its time limit of {plan['budget']} s")

    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _alarm)
    signal.alarm(plan["budget"])
    try:
        result = run(args, plan, started)
    except BudgetExceeded as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
    summary = _report(result, plan, args)
    elapsed = round(time.perf_counter() - started, 1)
    print(f"\nwhole run: {elapsed} s")
    if args.json:
        out = {
            "benchmark": "tongban-web",
            "mode": "quick" if args.quick else "full",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "workers": WORKERS,
            "plan": {k: v for k, v in plan.items() if k != "budget"},
            "settings": result["settings"],
            "setup": result["setup"],
            "sizes": [{k: v for k, v in s.items()} for s in result["sizes"]],
            "explain": [{k: v for k, v in e.items() if k != "plan"} for e in result["explain"]],
            "worklist_p95_ms": summary["p95"],
            "worklist_p95_ms_mixed": summary["mixed_p95"],
            "worklist_p95_growth": summary["growth"],
            "errors": summary["errors"],
            "targets": summary["targets"],
            "notes": result["notes"],
            "elapsed_seconds": elapsed,
        }
        print(json.dumps(out, ensure_ascii=False))
    if args.strict and not all(t["met"] for t in summary["targets"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
