#!/usr/bin/env python
"""Load test: residents, staff and supervisors at once against gunicorn (2 workers),
`tongban worker` and PostgreSQL on this machine.

    .venv/bin/python bench/load.py [--quick] [--json] [--seconds S] [--scale N]
                                   [--pg-url URL] [--keep]

1. drops and recreates its own database (default `tongban_load` on 127.0.0.1:5432),
   migrates it, loads the catalog and the demo world with its demo cases;
2. measures the database's own floor in the same run: one psycopg connection, one small
   INSERT + COMMIT per transaction, with the server's synchronous_commit (3 s; full run 5 s);
3. starts `tongban serve --workers 2` (gunicorn) on a free port and `tongban worker`;
4. runs the mix of bench/_load_clients.py (per unit of --scale: 3 API residents, 2 portal
   residents with session + CSRF, 2 reviewers approving from their worklists, an office
   worker and a supervisor reading pages) closed-loop for 5 minutes (--quick: 1 minute),
   after a 5 s warm-up;
5. reports throughput, p50/p95/p99 per endpoint (measured by the client, so queueing for
   one of the two workers counts), errors (anything but 2xx/3xx; target zero), the gunicorn
   workers' CPU per request, the database's commits/s during the run, and the ratio of the
   floor to the acknowledged writes/s; then stops everything and (unless --keep) drops the
   database. Processes are cleaned up on exit, Ctrl-C and errors.

The machine is shared: the figures include whatever else runs (the report shows the load
average). --json prints exactly one JSON object as the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _load_clients as cl  # noqa: E402
import _load_stack as st  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tongban_load"
WRITES = ("POST /api/cases", "POST /api/requests", "POST form", "POST approve")


def prepare(url: str, tmp: Path) -> tuple[dict, dict]:
    """The database, Django in this process, the environment and the API tokens."""
    st.log(f"database {url}: recreate, migrate, catalog, demo …")
    st.recreate_database(url)
    env = st.environment(url, tmp)
    info = st.setup_django(with_demo_cases=True)
    from django.contrib.auth import get_user_model

    from tongban.services import auth

    names = ["zhangsan", "lisi", "ent_demo", *cl.REVIEWERS.values()]
    users = get_user_model().objects.filter(username__in=names)
    info["tokens"] = {u.username: auth.create_token(u, name="bench-load") for u in users}
    return env, info


def communities() -> list[str]:
    from tongban.store.models import Org

    return list(
        Org.objects.filter(level="community").order_by("code").values_list("code", flat=True)
    )


def commits() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int(cur.fetchone()[0])


def db_counts() -> dict:
    from tongban.store.models import Case, Certificate, Delivery, Outbox

    return {
        "cases": Case.objects.count(),
        "certificates": Certificate.objects.count(),
        "outbox_pending": Outbox.objects.filter(delivered_at__isnull=True).count(),
        "deliveries": Delivery.objects.count(),
    }


def start_stack(env: dict, tmp: Path) -> tuple[int, st.Proc, st.Proc]:
    port = st.free_port()
    web, work = st.web(env, tmp, port), st.worker(env, tmp)
    web.start()
    work.start()
    st.log(f"gunicorn on :{port} ready in {st.wait_http(port, web):.1f} s")
    return port, web, work


def run(args) -> dict:
    seconds = args.seconds or (60.0 if args.quick else 300.0)
    tmp = Path(tempfile.mkdtemp(prefix="tongban-load-"))
    env, info = prepare(args.pg_url, tmp)
    if not args.keep:
        st.on_exit(lambda: st.recreate_database(args.pg_url, drop_only=True))
    floor = st.commit_floor(args.pg_url, 3.0 if args.quick else 5.0)
    st.log(f"database floor: {floor['tx_per_s']} commits/s (one connection)")
    port, web, work = start_stack(env, tmp)
    world = cl.World(port, info["tokens"], communities(), cl.Recorder(), threading.Event())
    threads = cl.threads(world, args.scale)
    for t in threads:
        t.start()
    warmup = 5.0
    time.sleep(warmup)
    c0, cpu0, t_from, before = commits(), st.server_cpu(web), time.perf_counter(), db_counts()
    load0 = os.getloadavg()[0]
    time.sleep(seconds)
    t_to, cpu1, c1 = time.perf_counter(), st.server_cpu(web), commits()
    world.stop.set()
    for t in threads:
        t.join(timeout=cl.TIMEOUT + 5)
    after = db_counts()
    web.stop()
    work.stop()
    summary = cl.summarise(world.rec, t_from, t_to)
    writes = sum(summary["endpoints"].get(k, {}).get("per_s", 0) for k in WRITES)
    db_commits = (c1 - c0) / (t_to - t_from)
    return {
        "bench": "load",
        "quick": args.quick,
        "seconds": summary["seconds"],
        "clients": len(threads),
        "gunicorn_workers": st.WORKERS,
        "setup_s": info["setup_s"],
        "throughput_per_s": summary["per_s"],
        "requests": summary["requests"],
        "errors": summary["errors"],
        "endpoints": summary["endpoints"],
        "error_samples": world.rec.errors,
        "writes_per_s": round(writes, 1),
        "db_commits_per_s": round(db_commits, 1),
        "floor": floor,
        "floor_over_writes": round(floor["tx_per_s"] / writes, 1) if writes else None,
        "server_cpu_ms_per_request": round((cpu1 - cpu0) / summary["requests"] * 1e3, 1)
        if summary["requests"]
        else None,
        "created_in_window": {k: after[k] - before[k] for k in ("cases", "certificates")},
        "outbox_pending_at_end": after["outbox_pending"],
        "load_average": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }


def report(r: dict) -> None:
    print(
        f"load: {r['clients']} clients, gunicorn {r['gunicorn_workers']} workers, "
        f"{r['seconds']} s measured (load average {r['load_average'][0]} → "
        f"{r['load_average'][1]} on {r['cpus']} CPUs, shared machine)"
    )
    for name, e in r["endpoints"].items():
        print(cl.fmt(name, e))
    print(f"  total {r['throughput_per_s']}/s, {r['requests']} requests, {r['errors']} errors")
    for name, samples in r["error_samples"].items():
        for s in samples:
            print(f"    error {name}: {s}")
    print(
        f"  acknowledged writes {r['writes_per_s']}/s; database commits {r['db_commits_per_s']}/s"
        f"; gunicorn CPU {r['server_cpu_ms_per_request']} ms/request"
    )
    print(
        f"  floor (psycopg INSERT+COMMIT, synchronous_commit={r['floor']['synchronous_commit']}):"
        f" {r['floor']['tx_per_s']}/s = {r['floor_over_writes']}× the acknowledged writes"
    )
    print(
        f"  created in the window: {r['created_in_window']}; "
        f"outbox pending at the end: {r['outbox_pending_at_end']}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 minute instead of 5")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--seconds", type=float, help="measured seconds (default 300, quick 60)")
    p.add_argument("--scale", type=int, default=1, help="copies of the client mix (default 1)")
    p.add_argument("--pg-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = p.parse_args(argv)
    result = run(args)
    report(result)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
