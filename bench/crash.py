#!/usr/bin/env python
"""Crash test: kill -9 the web server and the worker under load, stop PostgreSQL in the
middle, then prove nothing acknowledged was lost or doubled.

    .venv/bin/python bench/crash.py [--quick] [--json] [--seed N] [--kills N] [--seconds S]
                                    [--db-stop S] [--shared-cluster]

1. starts a private PostgreSQL 15 cluster (initdb in a temp folder, a free port — root
   runs it as the postgres user) so that stopping it disturbs nobody; --shared-cluster
   uses the machine's cluster and `pg_ctlcluster 15 main stop/start` instead (this stops
   everyone's database: only on a machine of your own). Without root or initdb the run
   uses the shared cluster and skips the database stop, saying so;
2. creates the database, loads catalog and demo, starts `tongban serve --workers 2` and
   `tongban worker`, and the client mix of bench/_load_clients.py in crash mode: every
   submission carries a marker and an idempotency key and is retried until acknowledged;
3. at seeded random moments kills with SIGKILL (20 times; --quick 4): one gunicorn worker
   (the master forks another), the whole gunicorn group — master and workers, then started
   again — or the worker, then started again;
4. in the middle stops PostgreSQL for 30 s (--quick 5 s): meanwhile a probe asks for a page,
   the worklist API and a submission every second and records status, latency, Retry-After
   and whether the answer says 数据库暂时不可用; when the database is back it measures how long
   until the service answers again by itself (nothing is restarted);
5. stops the clients, lets the worker drain the outbox, stops everything and checks:
   every acknowledged submission is in exactly one case (`lost`, `duplicated`), none refused
   during the outage was stored, `tongban audit verify` passes (`audit_failures`), every
   outbox message has exactly one delivery (`outbox_lost`, `outbox_repeated`), and the
   certificate numbers of each scope run 1 … n (`number_gaps`).

Exit status 1 if any of those counts is not zero. --json prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _crash_checks as checks  # noqa: E402
import _load_clients as cl  # noqa: E402
import _load_stack as st  # noqa: E402
from load import communities, prepare  # noqa: E402

ZERO = ("lost", "duplicated", "audit_failures", "outbox_lost", "outbox_repeated", "number_gaps")
KINDS = ("gunicorn_worker", "gunicorn_all", "worker")


def choose_cluster(args):
    """(cluster or None, why the database stop is skipped or '')."""
    if args.shared_cluster:
        if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
            return st.SharedCluster(), "--shared-cluster needs root and pg_ctlcluster"
        return st.SharedCluster(), ""
    if os.geteuid() != 0 or not (st.PG_BIN / "initdb").exists():
        return None, f"not root or no {st.PG_BIN}/initdb: no private cluster to stop"
    return st.PrivateCluster(), ""


class Outage:
    """Probe the service while the database is down, then time its recovery."""

    def __init__(self, world: cl.World, token: str, user: str):
        self.api = cl.Http(world.port, token)
        self.page = cl.Http(world.port)
        self.page.login(user)  # before the outage: the session is in the database
        self.world = world
        self.probes: list[dict] = []
        self.refused_markers: list[str] = []

    def probe_once(self, rng: random.Random) -> None:
        marker = f"M{rng.getrandbits(64):016x}"
        body = {
            "matter": cl.FREIGHT,
            "data": cl.freight_data(rng, marker),
            "org": rng.choice(self.world.communities),
            "idempotency_key": marker,
        }
        for name, call in (
            ("GET /supervise/", lambda: self.page.call("GET", "/supervise/", accept="text/html")),
            ("GET /api/worklist", lambda: self.api.call("GET", "/api/worklist")),
            ("POST /api/cases", lambda: self.api.call("POST", "/api/cases", body=body)),
        ):
            t = time.perf_counter()
            status, headers, data = call()
            text = data.decode("utf-8", "replace")
            self.probes.append(
                {
                    "endpoint": name,
                    "status": status,
                    "ms": round((time.perf_counter() - t) * 1e3, 1),
                    "chinese_message": "数据库暂时不可用" in text,
                    "retry_after": (headers.get("Retry-After") if headers else None),
                }
            )
            if name == "POST /api/cases" and status == 503:
                self.refused_markers.append(marker)

    def summary(self) -> dict:
        down = [p for p in self.probes if p["status"] != 200 and p["status"] != 201]
        return {
            "probes": len(self.probes),
            "statuses": sorted({p["status"] for p in self.probes}),
            "all_503": bool(self.probes) and all(p["status"] == 503 for p in self.probes),
            "all_chinese": bool(down) and all(p["chinese_message"] for p in down),
            "all_retry_after": bool(down) and all(p["retry_after"] for p in down),
            "max_ms": max((p["ms"] for p in self.probes), default=None),
            "p50_ms": sorted(p["ms"] for p in self.probes)[len(self.probes) // 2]
            if self.probes
            else None,
        }


def wait_service(port: int, token: str, timeout: float) -> float | None:
    """Seconds until GET /api/worklist answers 200 again, or None."""
    c, t0 = cl.Http(port, token), time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if c.call("GET", "/api/worklist")[0] == 200:
            return round(time.perf_counter() - t0, 2)
        time.sleep(0.1)
    return None


def storm(args, world, web, work, cluster, skip_reason) -> dict:
    rng = random.Random(args.seed)
    seconds = args.seconds
    db_at = seconds / 2 if (cluster and not skip_reason and args.db_stop > 0) else None
    busy = (db_at - 3, db_at + args.db_stop + 8) if db_at else (-1, -1)
    times = []
    while len(times) < args.kills:  # seeded moments, none while the database is down
        t = rng.uniform(3, seconds - 3)
        if not busy[0] <= t <= busy[1]:
            times.append(t)
    plan = sorted((t, rng.choice(KINDS)) for t in times)
    events: list[dict] = []
    outage = None
    t0 = time.perf_counter()
    reviewer_token = world.tokens[cl.REVIEWERS["320507"]]
    schedule = sorted([*plan, *([(db_at, "db_stop")] if db_at else [])])
    for at, kind in schedule:
        time.sleep(max(0.0, at - (time.perf_counter() - t0)))
        if kind == "gunicorn_worker":
            kids = web.children()
            if kids:
                os.kill(rng.choice(kids), signal.SIGKILL)
        elif kind == "gunicorn_all":
            web.kill()
            web.start()
        elif kind == "worker":
            work.kill()
            work.start()
        else:
            outage = Outage(world, reviewer_token, "supervisor_xiangcheng")
            st.log(f"stopping PostgreSQL for {args.db_stop:.0f} s")
            cluster.stop()
            world.outage.set()
            t_stop = time.perf_counter()
            prng = random.Random(args.seed + 1)
            while time.perf_counter() - t_stop < args.db_stop:
                outage.probe_once(prng)
                time.sleep(1.0)
            cluster.start()
            world.outage.clear()
            resumed = wait_service(world.port, reviewer_token, 60.0)
            st.log(f"PostgreSQL back; service answered again after {resumed} s")
            events.append(
                {"at_s": round(at, 1), "kind": kind, "seconds": args.db_stop, "resumed_s": resumed}
            )
            continue
        events.append({"at_s": round(at, 1), "kind": kind})
        st.log(f"{at:6.1f} s  kill -9 {kind}")
    time.sleep(max(0.0, seconds - (time.perf_counter() - t0)))
    return {"events": events, "outage": outage}


def run(args) -> dict:
    cluster, skip_reason = choose_cluster(args)
    url = (cluster or st.SharedCluster()).url
    if skip_reason:
        st.log(f"database stop skipped: {skip_reason}")
    tmp = Path(tempfile.mkdtemp(prefix="tongban-crash-"))
    st.on_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))
    env, info = prepare(url, tmp)
    if not isinstance(cluster, st.PrivateCluster):
        st.on_exit(lambda: st.recreate_database(url, drop_only=True))
    port = st.free_port()
    web, work = st.web(env, tmp, port), st.worker(env, tmp)
    web.start()
    work.start()
    st.wait_http(port, web)
    world = cl.World(port, info["tokens"], communities(), cl.Recorder(), threading.Event())
    world.retry = True
    threads = cl.threads(world)
    for t in threads:
        t.start()
    result = storm(args, world, web, work, cluster, skip_reason)
    world.stop.set()
    for t in threads:
        t.join(timeout=cl.TIMEOUT + 5)
    if not work.alive():
        work.start()
    left = checks.drain(60.0)
    web.stop()
    work.stop()
    outage = result["outage"]
    out = {
        "bench": "crash",
        "quick": args.quick,
        "seed": args.seed,
        "seconds": args.seconds,
        "kills": len([e for e in result["events"] if e["kind"] != "db_stop"]),
        "events": result["events"],
        "requests": len(world.rec.rows),
        "responses_by_status": _by_status(world.rec),
        **checks.submissions(world.rec.acks, outage.refused_markers if outage else []),
        **checks.audit(env),
        **checks.outbox(tmp),
        "outbox_left_after_drain": left,
        **checks.numbers(),
        "db_stop": outage.summary() if outage else {"skipped": skip_reason or "--db-stop 0"},
        "load_average": round(os.getloadavg()[0], 2),
    }
    return out


def _by_status(rec: cl.Recorder) -> dict:
    counts: dict[str, int] = {}
    for _, _, _, status in rec.rows:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return dict(sorted(counts.items()))


def report(r: dict) -> None:
    print(
        f"crash: seed {r['seed']}, {r['seconds']:.0f} s, {r['kills']} kills, "
        f"{r['requests']} requests (statuses {r['responses_by_status']}; load average "
        f"{r['load_average']}, shared machine)"
    )
    for e in r["events"]:
        print(f"  {e['at_s']:6.1f} s  {e['kind']}" + (f"  {e}" if e["kind"] == "db_stop" else ""))
    print(
        f"  acknowledged {r['acknowledged']} {r['acknowledged_by_kind']}: lost {r['lost']}, "
        f"duplicated {r['duplicated']}, wrong case id {r['wrong_case_id']}, "
        f"refused during outage but stored {r['refused_during_outage_but_stored']}"
    )
    print(f"  audit: {r['audit_failures']} failures ({r['audit_output']})")
    print(
        f"  outbox: {r['outbox_messages']} messages, lost {r['outbox_lost']}, repeated "
        f"{r['outbox_repeated']}, log lines missing {r['log_lines_missing']}"
    )
    print(
        f"  certificates: {r['certificates']} in {r['number_scopes']} scopes, gaps "
        f"{r['number_gaps']}, repeated {r['number_repeated']}"
    )
    print(f"  database stop: {r['db_stop']}")
    bad = [k for k in ZERO if r[k]]
    print("  PASS" if not bad else f"  FAIL: {', '.join(bad)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="4 kills, 40 s, 5 s database stop")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kills", type=int, help="default 20 (quick 4)")
    p.add_argument("--seconds", type=float, help="length of the storm (default 180, quick 40)")
    p.add_argument("--db-stop", type=float, help="seconds PostgreSQL is down (default 30, quick 5)")
    p.add_argument("--shared-cluster", action="store_true", help="stop the machine's cluster")
    args = p.parse_args(argv)
    args.kills = args.kills if args.kills is not None else (4 if args.quick else 20)
    args.seconds = args.seconds or (40.0 if args.quick else 180.0)
    args.db_stop = args.db_stop if args.db_stop is not None else (5.0 if args.quick else 30.0)
    args.db_stop = min(args.db_stop, 30.0)  # never longer: others may share the cluster
    result = run(args)
    report(result)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 1 if any(result[k] for k in ZERO) else 0


if __name__ == "__main__":
    sys.exit(main())
