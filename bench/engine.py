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
   database after every step and restored before the next, each step one transaction.
3. the floor: one small INSERT per transaction (BEGIN / INSERT / COMMIT) on a raw connection
   with the same settings (SQLite WAL + synchronous=FULL; PostgreSQL synchronous_commit=on).

Each database is measured in a child process of its own (Django reads its settings once), on a
throwaway database: a fresh SQLite file in a temporary folder (TONGBAN_VAR points there too,
so var/tongban.sqlite3 is never touched) and a PostgreSQL database (default `tongban_bench`)
dropped and recreated at the start (both removed at the end unless --keep). Certificates are
signed with a throwaway key. The figures compared are steps per second; a tongban "case" is
four steps (submit counts as one). On a busy machine absolute figures drop; the rounds are
interleaved so the ratios suffer less, and each figure also carries its CPU ms per step.

--json prints exactly one JSON object as the last line of stdout. --profile adds the SQL of
each step and a cProfile of the step path. --strict exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATTER_FILE = ROOT / "bench" / "matters" / "four_step.yaml"
ROLES_FILE = ROOT / "catalog" / "roles.yaml"
BPMN_FILE = ROOT / "bench" / "spiff" / "four_step.bpmn"
MATTER = "bench_four_step"
PROCESS = "four_step"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/tongban_bench"
BENCH_SECRET = "bench-only-key-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"

TARGETS = {
    "vs_spiffworkflow_sqlite": 3.0,
    "vs_spiffworkflow_postgresql": 2.0,
    "vs_floor_sqlite": 0.4,
    "vs_floor_postgresql": 0.4,
}
TARGET_TEXT = {
    "vs_spiffworkflow_sqlite": "tongban ≥ 3× SpiffWorkflow on SQLite",
    "vs_spiffworkflow_postgresql": "tongban ≥ 2× SpiffWorkflow on PostgreSQL",
    "vs_floor_sqlite": "each tongban step ≥ 40 % of the SQLite floor",
    "vs_floor_postgresql": "each tongban step ≥ 40 % of the PostgreSQL floor",
}
LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

# The application both engines carry: a phone and an ID number among typed fields.
APPLICATION = {
    "applicant_name": "张三",
    "id_number": "11010519491231002X",
    "contact_phone": "13812345678",
    "address": "苏州市相城区阳澄湖镇湘城大街 18 号",
    "area": 30,
    "purpose": "自住",
    "start_date": "2026-12-01",
}
STEPS = ("submit", "accept", "review", "approve")  # tongban actions after submit: STEPS[1:]


def _plan(quick: bool, seconds: float | None) -> dict:
    """Seconds per measurement (split over interleaved rounds) and warm-up per engine."""
    if quick:
        return {"seconds": seconds or 2.5, "rounds": 2, "warmup": 0.3}
    return {"seconds": seconds or 8.0, "rounds": 4, "warmup": 1.0}


# --------------------------------------------------------------------------------------
# Child process: one database
# --------------------------------------------------------------------------------------


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Measure:
    """Accumulates units of work and their wall time over several rounds."""

    def __init__(self, steps_per_unit: int):
        self.steps_per_unit = steps_per_unit
        self.units = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # this process's CPU time: less sensitive to a busy machine
        self.latencies: list[float] = []

    def run(self, unit, duration: float) -> None:
        clock = time.perf_counter
        cpu0 = time.process_time()
        start = clock()
        end = start + duration
        n = 0
        lat = self.latencies
        t = start
        while t < end:
            unit()
            t2 = clock()
            lat.append(t2 - t)
            t = t2
            n += 1
        self.cpu_seconds += time.process_time() - cpu0
        self.units += n
        self.seconds += t - start

    def result(self, unit_name: str) -> dict:
        per_s = self.units / self.seconds if self.seconds else 0.0
        lat = sorted(self.latencies)
        return {
            unit_name: self.units,
            "steps": self.units * self.steps_per_unit,
            "seconds": round(self.seconds, 3),
            f"{unit_name}_per_s": round(per_s, 1),
            "steps_per_s": round(per_s * self.steps_per_unit, 1),
            f"ms_per_{unit_name[:-1]}_p50": round(statistics.median(lat) * 1e3, 3) if lat else None,
            f"ms_per_{unit_name[:-1]}_p95": (
                round(lat[int(len(lat) * 0.95)] * 1e3, 3) if lat else None
            ),
            "cpu_ms_per_step": (
                round(self.cpu_seconds / (self.units * self.steps_per_unit) * 1e3, 3)
                if self.units
                else None
            ),
        }


def _setup_django(vendor: str) -> None:
    import django

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    django.setup()
    if vendor == "postgresql":
        from django.db.backends.signals import connection_created

        def _sync_on(sender, connection, **kwargs):
            with connection.cursor() as cur:
                cur.execute("SET synchronous_commit TO on")

        connection_created.connect(_sync_on, weak=False)

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _connection_settings(vendor: str) -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "sqlite":
            cur.execute("PRAGMA journal_mode")
            journal = cur.fetchone()[0]
            cur.execute("PRAGMA synchronous")
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cur.fetchone()[0]]
            cur.execute("SELECT sqlite_version()")
            version = cur.fetchone()[0]
            return {
                "version": version,
                "journal_mode": journal,
                "synchronous": sync,
                "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
                "file": str(connection.settings_dict["NAME"]),
            }
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
        cur.execute("SHOW synchronous_commit")
        sync = cur.fetchone()[0]
        cur.execute("SHOW fsync")
        fsync = cur.fetchone()[0]
        return {
            "version": version,
            "synchronous_commit": sync,
            "fsync": fsync,
            "database": connection.settings_dict["NAME"],
        }


class World:
    """The org tree, users and loaded matter the tongban flow runs on."""

    def __init__(self):
        from django.contrib.auth import get_user_model

        from tongban.services import calendar, catalog
        from tongban.store.models import Membership, Org, Profile

        calendar.seed()
        report = catalog.load([MATTER_FILE, ROLES_FILE])
        if not report.ok:
            raise SystemExit("bench matter does not load:\n" + "\n".join(map(str, report.problems)))
        district = Org(code="320507", name="相城区", level="district")
        district.save()
        street = Org(code="320507103", name="阳澄湖镇", level="street", parent=district)
        street.save()
        community = Org(code="320507103001", name="湘城社区", level="community", parent=street)
        community.save()
        User = get_user_model()

        def user(name: str, display: str, kind: str, org=None, role=None):
            u = User.objects.create_user(name, first_name=display)  # unusable password
            Profile.objects.create(user=u, kind=kind, display_name=display, home_org=org)
            if role:
                Membership.objects.create(user=u, org=org, role=role)
            return u

        self.applicant = user("bench_applicant", "张三", "person", community)
        self.clerk = user("bench_clerk", "阳澄湖镇窗口", "staff", street, "clerk")
        self.reviewer = user("bench_reviewer", "阳澄湖镇审核", "staff", street, "reviewer")
        self.approver = user("bench_approver", "相城区审批", "staff", district, "approver")
        self.actors = {
            "accept": self.clerk,
            "review": self.reviewer,
            "approve": self.approver,
        }
        self.step_seconds = dict.fromkeys(STEPS, 0.0)
        self.step_count = 0

    def flow(self) -> None:
        """One full case: submit, accept, review, approve (certificate issued)."""
        from tongban.services import cases

        clock = time.perf_counter
        t0 = clock()
        case = cases.submit(MATTER, self.applicant, APPLICATION)
        t1 = clock()
        self.step_seconds["submit"] += t1 - t0
        for action in STEPS[1:]:
            case = cases.act(
                case.pk, self.actors[action], cases.ActRequest(action=action, comment="同意")
            )
            t2 = clock()
            self.step_seconds[action] += t2 - t1
            t1 = t2
        if case.state != "approved":
            raise AssertionError(f"case {case.pk} ended in {case.state}")
        self.step_count += 1

    def verify(self) -> dict:
        """Every approved case has one certificate; the numbers run 1..N without a gap;
        the hash chains of the last few cases verify."""
        from tongban.services.audit import verify_all
        from tongban.store.models import Case, Certificate

        approved = Case.objects.filter(matter_code=MATTER, state="approved").count()
        numbers = sorted(
            Certificate.objects.filter(matter_code=MATTER).values_list("number", flat=True)
        )
        if any(not (n.startswith("320507") and len(n) == 16 and n.isdigit()) for n in numbers):
            raise AssertionError(
                f"certificate numbers not like {{division}}{{year}}{{seq:6}}: {numbers[:3]}"
            )
        by_year: dict[str, list[int]] = {}  # the counter resets yearly
        for n in numbers:
            by_year.setdefault(n[6:10], []).append(int(n[10:]))
        gapless = all(sorted(v) == list(range(1, len(v) + 1)) for v in by_year.values())
        seqs = numbers
        if not gapless or len(seqs) != approved:
            raise AssertionError(
                f"certificates: {len(seqs)} for {approved} cases, gapless={gapless}"
            )
        last = list(
            Case.objects.filter(matter_code=MATTER)
            .order_by("-pk")
            .values_list("pk", flat=True)[:20]
        )
        broken = [str(f) for _, f in verify_all(last) if f is not None]
        if broken:
            raise AssertionError(f"hash chain: {broken[0]}")
        return {
            "cases": approved,
            "certificates": len(seqs),
            "gapless": gapless,
            "first": numbers[0] if numbers else None,
            "last": numbers[-1] if numbers else None,
        }

    def queries_per_step(self, show_sql: bool) -> dict:
        """SQL statements each step sends (one case, captured on the live connection)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tongban.services import cases

        counts: dict[str, int] = {}
        sql: dict[str, list[str]] = {}
        with CaptureQueriesContext(connection) as q:
            case = cases.submit(MATTER, self.applicant, APPLICATION)
        counts["submit"], sql["submit"] = len(q), [x["sql"] for x in q.captured_queries]
        for action in STEPS[1:]:
            with CaptureQueriesContext(connection) as q:
                cases.act(
                    case.pk, self.actors[action], cases.ActRequest(action=action, comment="同意")
                )
            counts[action], sql[action] = len(q), [x["sql"] for x in q.captured_queries]
        return {"counts": counts, "sql": sql if show_sql else None}


class Spiff:
    """The same flow on SpiffWorkflow, persisted to a text column between steps."""

    TABLE = "bench_spiff_workflow"

    def __init__(self, vendor: str):
        from django.db import connection
        from SpiffWorkflow import TaskState
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

        self.TaskState = TaskState
        self.BpmnWorkflow = BpmnWorkflow
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN_FILE))
        self.spec = parser.get_spec(PROCESS)
        self.serializer = BpmnWorkflowSerializer()
        self.vendor = vendor
        pk = (
            "id integer NOT NULL PRIMARY KEY AUTOINCREMENT"
            if vendor == "sqlite"
            else "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        )
        with connection.cursor() as cur:
            # text, never jsonb: jsonb reorders keys and SpiffWorkflow then loses task data.
            cur.execute(
                f"CREATE TABLE {self.TABLE} ({pk}, serialization text NOT NULL, "
                "step varchar(20) NOT NULL, updated_at varchar(40) NOT NULL)"
            )
        self.insert = (
            f"INSERT INTO {self.TABLE} (serialization, step, updated_at) "
            "VALUES (%s, %s, %s) RETURNING id"
        )
        self.select = f"SELECT serialization FROM {self.TABLE} WHERE id = %s" + (
            " FOR UPDATE" if vendor == "postgresql" else ""
        )
        self.update = (
            f"UPDATE {self.TABLE} SET serialization = %s, step = %s, updated_at = %s WHERE id = %s"
        )
        self.bytes = 0
        self.last_id = None

    def _run(self, wf, name: str, data: dict) -> None:
        ready = wf.get_tasks(state=self.TaskState.READY, manual=True)
        if len(ready) != 1 or ready[0].task_spec.name != name:
            raise AssertionError(f"expected {name}, ready: {[t.task_spec.name for t in ready]}")
        task = ready[0]
        task.data.update(data)
        task.run()
        wf.do_engine_steps()

    def flow(self, actors: dict[str, int], applicant_id: int) -> None:
        from django.db import connection, transaction

        ser = self.serializer
        now = _iso_now
        with transaction.atomic(), connection.cursor() as cur:
            wf = self.BpmnWorkflow(self.spec)
            wf.do_engine_steps()
            self._run(wf, "submit", {**APPLICATION, "applicant_id": applicant_id})
            text = ser.serialize_json(wf)
            cur.execute(self.insert, [text, "submit", now()])
            wid = cur.fetchone()[0]
        for name in STEPS[1:]:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(self.select, [wid])
                wf = ser.deserialize_json(cur.fetchone()[0])
                at = now()
                self._run(wf, name, {name: {"by": actors[name], "comment": "同意", "at": at}})
                text = ser.serialize_json(wf)
                cur.execute(self.update, [text, name, at, wid])
        if not wf.is_completed():
            raise AssertionError("SpiffWorkflow flow did not complete")
        self.bytes = len(text)
        self.last_id = wid

    def verify(self) -> dict:
        """The last stored workflow restores complete, with every field and decision."""
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self.TABLE} WHERE step = 'approve'")
            done = cur.fetchone()[0]
            cur.execute(f"SELECT serialization FROM {self.TABLE} WHERE id = %s", [self.last_id])
            wf = self.serializer.deserialize_json(cur.fetchone()[0])
        data = wf.data
        lost = [k for k in [*APPLICATION, *STEPS[1:]] if k not in data]
        if not wf.is_completed() or lost:
            raise AssertionError(f"SpiffWorkflow restore lost {lost}")
        return {"completed_workflows": done, "data_intact": True}


def _iso_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="microseconds")


class Floor:
    """One small INSERT per transaction on the raw driver connection."""

    TABLE = "bench_floor"

    def __init__(self, vendor: str):
        from django.db import connection

        connection.ensure_connection()
        self.raw = connection.connection  # same connection, same settings as Django's
        pk = (
            "id integer NOT NULL PRIMARY KEY AUTOINCREMENT"
            if vendor == "sqlite"
            else "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        )
        with connection.cursor() as cur:
            cur.execute(f"CREATE TABLE {self.TABLE} ({pk}, n integer NOT NULL, note varchar(40))")
        mark = "?" if vendor == "sqlite" else "%s"
        self.sql = f"INSERT INTO {self.TABLE} (n, note) VALUES ({mark}, {mark})"
        self.begin = "BEGIN IMMEDIATE" if vendor == "sqlite" else "BEGIN"
        self.cur = self.raw.cursor()
        self.n = 0

    def tx(self) -> None:
        cur = self.cur
        self.n += 1
        cur.execute(self.begin)
        cur.execute(self.sql, (self.n, "floor"))
        cur.execute("COMMIT")


def _profile(world: World, n: int) -> str:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        world.flow()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)
    return out.getvalue()


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

    m_floor, m_tongban, m_spiff = Measure(1), Measure(4), Measure(4)
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


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


# --------------------------------------------------------------------------------------
# Parent process: databases, children, report
# --------------------------------------------------------------------------------------


def _pg_params(url: str) -> dict:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    if not params.get("dbname"):
        raise SystemExit(f"--pg-url names no database: {url}")
    return params


def _pg_recreate(url: str, *, drop_only: bool = False) -> str | None:
    """Drop and recreate the bench database; return why not, if PostgreSQL is unreachable."""
    import psycopg
    from psycopg import sql

    params = _pg_params(url)
    name = params.pop("dbname")
    if name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database '{name}': give the bench its own database")
    try:
        with psycopg.connect(
            **params, dbname="postgres", autocommit=True, connect_timeout=5
        ) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if not drop_only:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def _child(vendor: str, args, tmp: Path, deadline: float | None) -> dict:
    env = dict(os.environ)
    env.pop("TONGBAN_DEBUG", None)  # DEBUG keeps every query in memory: never in a benchmark
    env.pop("TONGBAN_DEMO", None)
    env["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    env.setdefault("TONGBAN_SECRET_KEY", BENCH_SECRET)
    # Certificates are signed at issue: sign with a throwaway key, never a deployment's own.
    env["TONGBAN_CERT_KEYS"] = "bench:" + base64.b64encode(os.urandom(32)).decode("ascii")
    env.pop("TONGBAN_CERT_PUBLIC_KEYS", None)
    env["TONGBAN_VAR"] = str(tmp / vendor)
    (tmp / vendor).mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        env["TONGBAN_DATABASE_URL"] = f"sqlite:///{tmp / vendor / 'bench.sqlite3'}"
    else:
        env["TONGBAN_DATABASE_URL"] = args.pg_url
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", vendor]
    if args.quick:
        cmd.append("--quick")
    if args.seconds:
        cmd += ["--seconds", str(args.seconds)]
    if args.profile:
        cmd.append("--profile")
    if deadline is not None:
        cmd += ["--deadline", f"{deadline:.3f}"]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{LABEL[vendor]} benchmark failed (exit {proc.returncode})")
    return json.loads(lines[-1])


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _print_db(vendor: str, r: dict) -> None:
    s, t, sp, fl = r["settings"], r["tongban"], r["spiffworkflow"], r["floor"]
    detail = ", ".join(f"{k}={v}" for k, v in s.items() if k not in {"file", "database"})
    print(f"\n{LABEL[vendor]} ({detail})")
    print(
        f"  tongban        {t['cases_per_s']:9.1f} cases/s {t['steps_per_s']:9.1f} steps/s"
        f"   ({t['cases']} cases in {t['seconds']} s; case p50 {t['ms_per_case_p50']} ms,"
        f" p95 {t['ms_per_case_p95']} ms; CPU {t['cpu_ms_per_step']} ms/step)"
    )
    ms = "  ".join(f"{k} {v:.3f}" for k, v in t["ms_per_step"].items())
    qs = "  ".join(f"{k} {v}" for k, v in t["queries_per_step"].items())
    print(f"                 ms per step: {ms}")
    print(f"                 SQL per step: {qs}  (case: {t['queries_per_case']})")
    c = t["check"]
    print(
        f"                 certificates {c['first']} … {c['last']}: {c['certificates']} for"
        f" {c['cases']} approved cases, gapless={c['gapless']}"
    )
    print(
        f"  SpiffWorkflow  {sp['cases_per_s']:9.1f} cases/s {sp['steps_per_s']:9.1f} steps/s"
        f"   ({sp['cases']} flows in {sp['seconds']} s; {sp['serialized_bytes']} bytes of JSON"
        f" per workflow; CPU {sp['cpu_ms_per_step']} ms/step; v{sp['version']})"
    )
    print(
        f"  floor          {fl['transactions_per_s']:9.1f} transactions/s"
        f"   ({fl['transactions']} single-row inserts in {fl['seconds']} s;"
        f" p50 {fl['ms_per_transaction_p50']} ms)"
    )
    if r.get("scaled"):
        print(
            f"  note: setup was slow, so measurements were shortened to"
            f" {r['seconds_per_measurement']} s to keep --quick within 60 s"
        )
    load = r.get("load_average")
    if load and load[0] > 0.5:
        print(
            f"  note: load average {load[0]} on {os.cpu_count()} CPUs after this database's run:"
            " other processes shared the machine; absolute figures are low, ratios less so"
        )


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


def _strip(r: dict | None) -> dict | None:
    if r is None:
        return None
    return {k: v for k, v in r.items() if k != "profile"}


if __name__ == "__main__":
    sys.exit(main())
