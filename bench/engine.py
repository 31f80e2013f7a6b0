#!/usr/bin/env python
"""Benchmark: tongban's case engine against SpiffWorkflow and against the database floor.

    .venv/bin/python bench/engine.py [--quick] [--json] [--db sqlite|postgresql|both]
                                     [--pg-url URL] [--seconds S] [--profile] [--strict] [--keep]

For each database, in the same run and in interleaved rounds, it measures

1. tongban: the four-step flow of bench/matters/four_step.yaml through the service layer,
   `cases.submit` then `cases.act` for accept → review → approve (the last step issues a
   gaplessly numbered certificate). One process, sequential, each step one transaction.
2. SpiffWorkflow 3 (`pip install -e '.[bench]'`): the same flow as BPMN
   (bench/spiff/four_step.bpmn), the serialized workflow stored in a `text` column of the same
   database after every step and restored before the next, each step one transaction,
   persisted as tongban persists a case (version-guarded write; on PostgreSQL the read first
   and the write one statement, on SQLite both inside BEGIN IMMEDIATE … COMMIT).
3. the floor: one small INSERT per transaction (BEGIN / INSERT / COMMIT) on a raw connection
   with the same settings (SQLite WAL + synchronous=FULL; PostgreSQL synchronous_commit=on).

Each database is measured in a child process of its own (Django reads its settings once), on a
throwaway database: a fresh SQLite file in a temporary folder (TONGBAN_VAR points there too,
so var/tongban.sqlite3 is never touched) and a PostgreSQL database (default `tongban_bench`)
dropped and recreated at the start (both removed at the end unless --keep). Certificates are
signed with a throwaway key. The figures compared are steps per second; a tongban "case" is
four steps (submit counts as one). On a busy machine absolute figures drop; the rounds are
interleaved so the ratios suffer less, and each figure also carries its CPU ms per step
(on PostgreSQL also the server backend's, read from /proc): on a shared machine compare
those, and the statements per step (BEGIN and COMMIT included: on PostgreSQL each statement
is one round trip).

--json prints exactly one JSON object as the last line of stdout. --profile adds the SQL of
each step and a cProfile of the step path. --strict exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the _engine_* helpers

from _engine_common import (  # noqa: E402
    DEFAULT_PG_URL,
    LABEL,
    STEPS,
    TARGET_TEXT,
    TARGETS,
    Measure,
    _log,
    _version,
    backend_cpu,
)
from _engine_parent import _child, _pg_recreate, _print_db, _ratio, _strip  # noqa: E402
from _engine_rivals import Floor, Spiff  # noqa: E402
from _engine_world import World, _connection_settings, _profile, _setup_django  # noqa: E402


def _plan(quick: bool, seconds: float | None) -> dict:
    """Seconds per measurement (split over interleaved rounds) and warm-up per engine."""
    if quick:
        return {"seconds": seconds or 2.5, "rounds": 2, "warmup": 0.3}
    return {"seconds": seconds or 8.0, "rounds": 4, "warmup": 1.0}


def worker(
    vendor: str, quick: bool, seconds: float | None, profile: bool, deadline: float | None
) -> dict:
    plan = _plan(quick, seconds)
    t_start = time.perf_counter()
    _setup_django(vendor)
    settings = _connection_settings(vendor)
    world = World()
    spiff = Spiff(vendor)
    floor = Floor(vendor)
    actor_ids = {k: u.pk for k, u in world.actors.items()}

    def spiff_flow():
        spiff.flow(actor_ids, world.applicant.pk)

    setup_s = time.perf_counter() - t_start
    scale = 1.0
    if deadline is not None:
        # --quick promises the whole run in 60 s: on a busy machine (slow migrations),
        # shorten the measurements rather than overrun. Reported as "scaled".
        need = 3 * (plan["seconds"] + plan["warmup"]) + 2.0
        left = deadline - time.time()
        if left < need:
            scale = max(0.2, left / need)
            plan = {**plan, "seconds": plan["seconds"] * scale, "warmup": plan["warmup"] * scale}
    _log(f"[{vendor}] ready in {setup_s:.1f} s; warming up")
    for fn in (floor.tx, world.flow, spiff_flow):
        Measure(1).run(fn, plan["warmup"])
    world.step_seconds = dict.fromkeys(STEPS, 0.0)
    world.step_count = 0

    server = backend_cpu(vendor)
    m_floor, m_tongban, m_spiff = Measure(1, server), Measure(4, server), Measure(4, server)
    share = plan["seconds"] / plan["rounds"]
    for r in range(plan["rounds"]):
        _log(f"[{vendor}] round {r + 1}/{plan['rounds']} ({share:.2f} s each)")
        m_floor.run(floor.tx, share)
        m_tongban.run(world.flow, share)
        m_spiff.run(spiff_flow, share)

    tongban = m_tongban.result("cases")
    tongban["ms_per_step"] = {
        k: round(v / world.step_count * 1e3, 3) for k, v in world.step_seconds.items()
    }
    queries = world.queries_per_step(show_sql=profile)
    tongban["queries_per_step"] = queries["counts"]
    tongban["queries_per_case"] = sum(queries["counts"].values())
    tongban["check"] = world.verify()
    sp = m_spiff.result("cases")
    sp["serialized_bytes"] = spiff.bytes
    sp["version"] = _version("SpiffWorkflow")
    sp["check"] = spiff.verify()
    fl = m_floor.result("transactions")
    fl = {
        "transactions": fl["transactions"],
        "seconds": fl["seconds"],
        "transactions_per_s": fl["transactions_per_s"],
        "ms_per_transaction_p50": fl["ms_per_transaction_p50"],
        "cpu_ms_per_transaction": fl["cpu_ms_per_step"],
        "server_cpu_ms_per_transaction": fl["server_cpu_ms_per_step"],
    }
    result = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "settings": settings,
        "tongban": tongban,
        "spiffworkflow": sp,
        "floor": fl,
        "setup_seconds": round(setup_s, 2),
        "seconds_per_measurement": round(plan["seconds"], 2),
        "scaled": round(scale, 2) if scale < 1 else None,
    }
    if profile:
        result["profile"] = {
            "sql": queries["sql"],
            "cprofile": _profile(world, 100 if quick else 300),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run (whole run within 60 s)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    p.add_argument("--seconds", type=float, help="seconds per measurement (default 8, quick 2.5)")
    p.add_argument("--profile", action="store_true", help="print SQL per step and a cProfile")
    p.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the throwaway databases")
    p.add_argument("--worker", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    p.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        result = worker(args.worker, args.quick, args.seconds, args.profile, args.deadline)
        print(json.dumps(result, ensure_ascii=False))
        return 0

    started, wall0 = time.perf_counter(), time.time()
    plan = _plan(args.quick, args.seconds)
    vendors = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    notes: list[str] = []
    if _version("SpiffWorkflow") is None:
        print("SpiffWorkflow is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    if "postgresql" in vendors:
        why = _pg_recreate(args.pg_url)
        if why is not None:
            vendors.remove("postgresql")
            then = "reporting SQLite only" if vendors else "nothing to measure"
            msg = f"PostgreSQL at {args.pg_url} is unreachable ({why}); {then}."
            print(msg, file=sys.stderr)
            notes.append(msg)
    results: dict[str, dict | None] = {"sqlite": None, "postgresql": None}
    tmp = Path(tempfile.mkdtemp(prefix="tongban-bench-"))
    try:
        for i, vendor in enumerate(vendors):
            # --quick: each database gets its share of a 55 s budget (see worker()).
            deadline = wall0 + 55.0 * (i + 1) / len(vendors) if args.quick else None
            results[vendor] = _child(vendor, args, tmp, deadline)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if results.get("postgresql") is not None or "postgresql" in vendors:
                _pg_recreate(args.pg_url, drop_only=True)

    print(
        f"tongban engine benchmark — {'quick' if args.quick else 'full'}: {plan['seconds']} s per"
        f" measurement in {plan['rounds']} interleaved rounds, one process, sequential"
    )
    for note in notes:
        print(f"note: {note}")
    for vendor in ("sqlite", "postgresql"):
        if results[vendor] is not None:
            _print_db(vendor, results[vendor])

    def steps(vendor: str, engine: str) -> float | None:
        r = results[vendor]
        return r[engine]["steps_per_s"] if r else None

    def floor(vendor: str) -> float | None:
        r = results[vendor]
        return r["floor"]["transactions_per_s"] if r else None

    ratios = {
        "vs_spiffworkflow_sqlite": _ratio(
            steps("sqlite", "tongban"), steps("sqlite", "spiffworkflow")
        ),
        "vs_spiffworkflow_postgresql": _ratio(
            steps("postgresql", "tongban"), steps("postgresql", "spiffworkflow")
        ),
        "vs_floor_sqlite": _ratio(steps("sqlite", "tongban"), floor("sqlite")),
        "vs_floor_postgresql": _ratio(steps("postgresql", "tongban"), floor("postgresql")),
    }
    targets = {}
    print("\nratios (tongban steps/s ÷ SpiffWorkflow steps/s, ÷ floor transactions/s) and targets")
    for key, value in ratios.items():
        goal = TARGETS[key]
        met = None if value is None else value >= goal
        targets[key] = {"target": goal, "value": value, "met": met}
        shown = "   n/a" if value is None else f"{value:6.2f}"
        verdict = "not measured" if met is None else ("met" if met else "NOT MET")
        print(f"  {key:28} {shown}   target ≥ {goal:<4}  {verdict:13} {TARGET_TEXT[key]}")
    elapsed = round(time.perf_counter() - started, 1)
    print(f"\nwhole run: {elapsed} s")

    if args.profile:
        for vendor in ("sqlite", "postgresql"):
            r = results[vendor]
            if r is None:
                continue
            print(f"\n===== {LABEL[vendor]}: SQL per step =====")
            for step, stmts in r["profile"]["sql"].items():
                print(f"--- {step}: {len(stmts)} statements")
                for s in stmts:
                    print(f"    {s[:300]}")
            print(f"\n===== {LABEL[vendor]}: cProfile of the tongban step path =====")
            print(r["profile"]["cprofile"])

    if args.json:
        out = {
            "benchmark": "tongban-engine",
            "mode": "quick" if args.quick else "full",
            "seconds_per_measurement": plan["seconds"],
            "rounds": plan["rounds"],
            "python": platform.python_version(),
            "django": _version("django"),
            "spiffworkflow": _version("SpiffWorkflow"),
            "sqlite": _strip(results["sqlite"]),
            "postgresql": _strip(results["postgresql"]),
            "ratios": ratios,
            "targets": targets,
            "notes": notes,
            "elapsed_seconds": elapsed,
        }
        print(json.dumps(out, ensure_ascii=False))
    if not any(results.values()):
        return 1
    if args.strict and not all(t["met"] for t in targets.values() if t["met"] is not None):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
