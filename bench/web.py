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
import contextlib
import http.client
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

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


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class BudgetExceeded(Exception):
    pass


# --------------------------------------------------------------------------------------
# Database and Django (in this process: setup, fills, tokens, EXPLAIN)
# --------------------------------------------------------------------------------------


def _pg_params(url: str) -> dict:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    if not params.get("dbname"):
        raise SystemExit(f"--pg-url names no database: {url}")
    host = params.get("host") or "127.0.0.1"
    if host not in LOOPBACK and not host.startswith("/"):
        raise SystemExit(f"--pg-url must point at this machine (loopback), not {host}")
    return params


def _pg_recreate(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    params = _pg_params(url)
    name = params.pop("dbname")
    if name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database '{name}': give the bench its own database")
    with psycopg.connect(**params, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _environment(args, tmp: Path) -> dict:
    """The environment of this process's Django and of the server: the bench database,
    a throwaway var/ folder, production mode with a bench key."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tongban.documents.signing import generate  # what `tongban cert keygen` prints

    private, _public = generate()
    env = {
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_DATABASE_URL": args.pg_url,
        "TONGBAN_VAR": str(tmp),
        "TONGBAN_SECRET_KEY": BENCH_SECRET,
        "TONGBAN_DEBUG": "0",  # DEBUG keeps every query in memory: never in a benchmark
        "TONGBAN_DEMO": "0",
        "TONGBAN_CERT_KEYS": f"bench:{private}",
        "TONGBAN_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    os.environ.pop("TONGBAN_CERT_PUBLIC_KEYS", None)
    return env


def _setup_django() -> dict:
    import django

    t0 = time.perf_counter()
    django.setup()
    from django.core.management import call_command

    from tongban.services import catalog, demo

    call_command("migrate", verbosity=0, interactive=False)
    t1 = time.perf_counter()
    report = catalog.load([ROOT / "catalog"])
    if not report.ok:
        raise SystemExit("the catalog does not load:\n" + "\n".join(map(str, report.problems)))
    t2 = time.perf_counter()
    demo.build(with_cases=False)
    t3 = time.perf_counter()
    return {
        "migrate_s": round(t1 - t0, 2),
        "catalog_s": round(t2 - t1, 2),
        "demo_s": round(t3 - t2, 2),
    }


def _pg_settings() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        out = {}
        for name in ("server_version", "shared_buffers", "work_mem", "synchronous_commit"):
            cur.execute(f"SHOW {name}")
            out[name] = cur.fetchone()[0]
    out["database"] = connection.settings_dict["NAME"]
    return out


def _vacuum_analyze(full: bool = True) -> float:
    """VACUUM ANALYZE after a fill (--quick: ANALYZE only, which is what the plans need)."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) store_case" if full else "ANALYZE store_case")
    return round(time.perf_counter() - t0, 2)


def _worklist_sizes(users) -> dict[str, int]:
    from tongban.services import worklist

    return {u.username: worklist.worklist(u, "todo").count() for u in users}


def _choose_staff(n: int):
    """The n staff users with the largest worklists, at least one of them a countersigner
    (whose worklist ORs a role branch and a countersign branch)."""
    from django.contrib.auth import get_user_model

    from tongban.services import worklist

    User = get_user_model()
    staff = list(User.objects.filter(memberships__isnull=False).distinct().order_by("username"))
    sized = sorted(
        ((worklist.worklist(u, "todo").count(), u) for u in staff),
        key=lambda x: (-x[0], x[1].username),
    )
    roles = {s.role for u in staff for s in worklist.seats(u)}
    signing_roles = {r for _, _, r in worklist._sign_states(roles)}
    signers = [(c, u) for c, u in sized if any(s.role in signing_roles for s in worklist.seats(u))]
    chosen = [u for _, u in sized[: max(1, n - (1 if signers else 0))]]
    if signers and not any(u.pk == signers[0][1].pk for u in chosen):
        chosen.append(signers[0][1])
    return chosen[:n]


def _multi_seat_user(sources):
    """A staff member holding the seats of several others (one person, several roles or
    offices, as in a small district): a worklist that ORs one branch per seat."""
    from django.contrib.auth import get_user_model

    from tongban.store.models import Membership, Profile

    user = get_user_model().objects.create_user(MULTI, first_name="多岗位工作人员")
    Profile.objects.create(user=user, kind="staff", display_name="多岗位工作人员（压测）")
    for src in sources:
        for m in Membership.objects.filter(user=src):
            Membership.objects.get_or_create(user=user, org_id=m.org_id, role=m.role)
    return user


def _tokens(users) -> dict[str, str]:
    from tongban.services import auth

    return {u.username: auth.create_token(u, name="bench-web") for u in users}


def _communities() -> list[str]:
    from tongban.store.models import Org

    return list(
        Org.objects.filter(level="community").order_by("code").values_list("code", flat=True)
    )


def _explain_one(qs) -> tuple[dict, str]:
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        for _ in range(2):  # the second run is the one reported (warm cache)
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            raw = cur.fetchone()[0]
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        text = "\n".join(r[0] for r in cur.fetchall())
    doc = json.loads(raw) if isinstance(raw, str) else raw
    return doc[0], text


def _explain(users) -> list[dict]:
    """EXPLAIN ANALYZE of each user's first worklist page, and of the deepest page the
    staff clients read, as the API asks for them (the case query; the matter versions are
    one more small query)."""
    from tongban.services import worklist

    out = []
    deep = (MAX_PAGES - 1) * PAGE
    for u in users:
        top, text = _explain_one(worklist.worklist(u, "todo")[: PAGE + 1])
        deep_top, _ = _explain_one(worklist.worklist(u, "todo")[deep : deep + PAGE + 1])
        out.append(
            {
                "user": u.username,
                "seats": [f"{s.role}@{s.level}:{s.code}" for s in worklist.seats(u)],
                "execution_ms": round(top["Execution Time"], 3),
                "planning_ms": round(top["Planning Time"], 3),
                f"offset_{deep}_execution_ms": round(deep_top["Execution Time"], 3),
                **_plan_summary(top["Plan"]),
                "plan": text,
            }
        )
    return out


def _plan_summary(plan: dict) -> dict:
    indexes: list[str] = []
    seq_scans: list[str] = []
    sorts: list[dict] = []
    shape: list[str] = []
    heap_rows = 0

    def walk(node: dict, depth: int) -> None:
        nonlocal heap_rows
        kind = node["Node Type"]
        label = kind
        if "Index Name" in node:
            indexes.append(node["Index Name"])
            label += f" {node['Index Name']}"
        if kind == "Seq Scan":
            seq_scans.append(node.get("Relation Name", "?"))
            label += f" {node.get('Relation Name', '?')}"
        if kind in ("Sort", "Incremental Sort"):
            sorts.append(
                {
                    "node": kind,
                    "method": node.get("Sort Method")
                    or ",".join((node.get("Full-sort Groups") or {}).get("Sort Methods Used", [])),
                    "rows_in": sum(c.get("Actual Rows", 0) for c in node.get("Plans", [])),
                }
            )
        if kind in ("Bitmap Heap Scan", "Index Scan", "Seq Scan"):
            heap_rows += node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        if depth < 6:
            shape.append(label)
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan, 0)
    full_sort = any(s["node"] == "Sort" and s["rows_in"] > PAGE + 1 for s in sorts)
    return {
        "indexes": sorted(set(indexes)),
        "seq_scans": seq_scans,
        "sorts": sorts,
        "sorts_all_matches": full_sort,
        "rows_read": heap_rows,
        "shape": " → ".join(shape),
        "shared_hit": plan.get("Shared Hit Blocks", 0),
        "shared_read": plan.get("Shared Read Blocks", 0),
    }


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict, tmp: Path):
        self.port = _free_port()
        self.log_path = tmp / "gunicorn.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        full_env = dict(os.environ)
        full_env.update(env)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tongban",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(WORKERS),
            ],
            cwd=ROOT,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() can end the workers too
        )

    def wait_ready(self, timeout: float = 60.0) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the gunicorn workers (children of the master)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return 0.0
        for pid in children.split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def tail(self, n: int = 30) -> str:
        try:
            self.log.flush()
            lines = self.log_path.read_text("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: workers finish their request
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        # the workers (same process group), whatever happened to the master
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.log.close()


# --------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection (gunicorn's sync workers close it after each response;
    http.client then reconnects on the next request)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def call(
        self,
        method: str,
        path: str,
        token: str,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.will_close:
                self.conn.close()
            return resp.status, data
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            return 0, f"{type(exc).__name__}: {exc}".encode()

    def close(self) -> None:
        self.conn.close()


def _upload(port: int, token: str, name: str, content: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, data = Client(port).call(
        "POST", "/api/uploads", token, body, f"multipart/form-data; boundary={boundary}"
    )
    if status != 201:
        raise SystemExit(f"POST /api/uploads failed: {status} {data[:300]!r}")
    return json.loads(data)


def _materials(port: int, token: str, communities: list[str]) -> dict:
    """Upload the two PDFs once; submit one case with them to prove the body is valid."""
    from tongban.services import demo

    refs = {
        "site_plan": _upload(port, token, "占道平面示意图.pdf", demo.sample_pdf("site plan")),
        "id_copy": _upload(port, token, "身份证明.pdf", demo.sample_pdf("ID copy")),
    }
    body = _submit_body(communities, refs, random.Random(0))
    status, data = Client(port).call("POST", "/api/cases", token, body, "application/json")
    if status != 201:
        raise SystemExit(f"a first submission failed: {status} {data[:500]!r}")
    return refs


class Recorder:
    def __init__(self):
        # endpoint, start, seconds, status, who (the staff user, for worklists)
        self.rows: list[tuple[str, float, float, int, str]] = []
        self.errors: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def add(
        self, endpoint: str, start: float, seconds: float, status: int, body: bytes, who: str = ""
    ) -> None:
        self.rows.append((endpoint, start, seconds, status, who))
        if not 200 <= status < 300:
            with self.lock:
                seen = self.errors.setdefault(endpoint, [])
                if len(seen) < SHOW_ERRORS:
                    seen.append(
                        f"{status or 'no response'}: {body[:300].decode('utf-8', 'replace')}"
                    )


def _submit_body(communities: list[str], refs: dict, rng: random.Random) -> bytes:
    start = date.today() + timedelta(days=rng.randrange(5, 60))
    data = {
        "applicant_name": rng.choice(["张三", "李四", "王五", "苏州阳澄湖农产品有限公司"]),
        "contact_phone": f"138{rng.randrange(10**8):08d}",
        "location": f"湘城大街 {rng.randrange(1, 400)} 号门前",
        "area": rng.randrange(1, 500),
        "purpose": rng.choice(["施工", "临时设施", "文化活动", "其他"]),
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=rng.randrange(1, 30))).isoformat(),
        "safety_commitment": True,
    }
    return json.dumps(
        {
            "matter": MATTER,
            "data": data,
            "org": rng.choice(communities),
            "materials": {k: [v] for k, v in refs.items()},
            "idempotency_key": uuid.uuid4().hex,
        },
        ensure_ascii=False,
    ).encode()


def _submitter(port, tokens, communities, refs, rec, stop, seed):
    rng = random.Random(seed)
    client = Client(port)
    clock = time.perf_counter
    i = seed
    while not stop.is_set():
        token = tokens[i % len(tokens)]
        i += 1
        body = _submit_body(communities, refs, rng)
        t = clock()
        status, data = client.call("POST", "/api/cases", token, body, "application/json")
        rec.add("submit", t, clock() - t, status, data)
    client.close()


def _pager(port, staff, rec, stop, index):
    """Page through one worklist (up to MAX_PAGES pages of 50), then the next user's."""
    client = Client(port)
    clock = time.perf_counter
    k = index
    while not stop.is_set():
        user = staff[k % len(staff)]
        k += 1
        pages = max(1, min(MAX_PAGES, math.ceil(user["todo"] / PAGE)))
        for page in range(pages):
            if stop.is_set():
                break
            query = urlencode({"limit": PAGE, "offset": page * PAGE})
            t = clock()
            status, data = client.call("GET", f"/api/worklist?{query}", user["token"])
            rec.add("worklist", t, clock() - t, status, data, user["username"])
            if status == 200 and json.loads(data).get("next_offset") is None:
                break
    client.close()


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)  # nearest rank
    return sorted_values[k]


def _summary(lat_s: list[float], errors: int, seconds: float) -> dict:
    lat = sorted(d * 1e3 for d in lat_s)
    return {
        "requests": len(lat),
        "errors": errors,
        "per_s": round(len(lat) / seconds, 1),
        "p50_ms": round(_percentile(lat, 50), 2),
        "p95_ms": round(_percentile(lat, 95), 2),
        "p99_ms": round(_percentile(lat, 99), 2),
        "max_ms": round(lat[-1], 2),
    }


def _stats(rec: Recorder, t_from: float, t_to: float) -> dict:
    """Requests that started and finished inside the measured window, per endpoint and
    (worklists) per staff user."""
    seconds = t_to - t_from
    by: dict[str, list[tuple[float, int]]] = {}
    who: dict[str, list[tuple[float, int]]] = {}
    rows = list(rec.rows)
    for endpoint, start, dur, status, user in rows:
        if t_from <= start and start + dur <= t_to:
            by.setdefault(endpoint, []).append((dur, status))
            if user:
                who.setdefault(user, []).append((dur, status))

    def summary(items):
        return _summary(
            [d for d, _ in items], sum(1 for _, s in items if not 200 <= s < 300), seconds
        )

    return {
        "seconds": round(seconds, 2),
        "requests": sum(len(v) for v in by.values()),
        "per_s": round(sum(len(v) for v in by.values()) / seconds, 1) if seconds else 0.0,
        "endpoints": {k: summary(v) for k, v in sorted(by.items())},
        "worklist_by_user": {k: summary(v) for k, v in who.items()},
        # errors of requests that never finished inside the window count too
        "errors_total": sum(1 for r in rows if not 200 <= r[3] < 300),
        "error_samples": rec.errors,
    }


def _phase(
    server, *, seconds, warmup, submitters, stagers, submit_tokens, communities, refs, staff
) -> dict:
    port = server.port
    rec = Recorder()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_submitter,
            args=(port, submit_tokens, communities, refs, rec, stop, 1000 + i),
            daemon=True,
        )
        for i in range(submitters)
    ] + [
        threading.Thread(target=_pager, args=(port, staff, rec, stop, i), daemon=True)
        for i in range(stagers)
    ]
    t0 = time.perf_counter()
    try:
        for t in threads:
            t.start()
        time.sleep(warmup)
        cpu0 = server.cpu_seconds()
        t_from = time.perf_counter()
        time.sleep(seconds)
        t_to = time.perf_counter()
        cpu1 = server.cpu_seconds()
    finally:
        stop.set()  # also when the time limit strikes: the clients stop, then cleanup runs
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT + 2)
    stuck = sum(t.is_alive() for t in threads)
    result = _stats(rec, t_from, t_to)
    result["clients"] = {"submitters": submitters, "staff": stagers}
    result["stuck_clients"] = stuck
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    # gunicorn workers' CPU per request: much less sensitive to a busy machine than latency
    result["server_cpu_ms_per_request"] = (
        round((cpu1 - cpu0) / result["requests"] * 1e3, 2) if result["requests"] else None
    )
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def _fmt(ep: dict | None) -> str:
    if not ep:
        return "—"
    return (
        f"{ep['per_s']:7.1f}/s  p50 {ep['p50_ms']:7.1f}  p95 {ep['p95_ms']:7.1f}"
        f"  p99 {ep['p99_ms']:7.1f}  max {ep['max_ms']:7.1f} ms  ({ep['requests']} req,"
        f" {ep['errors']} errors)"
    )


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


def _report(result: dict, plan: dict, args) -> dict:
    sizes = result["sizes"]
    print(
        f"tongban web benchmark — {'quick' if args.quick else 'full'}: gunicorn {WORKERS} sync"
        f" workers on PostgreSQL {result['settings']['server_version']}"
        f" (shared_buffers {result['settings']['shared_buffers']}),"
        f" {os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.1f}"
    )
    print(
        f"mixed phase: {args.submitters} submitters (POST /api/cases) + {args.staff_clients} staff"
        f" clients (GET /api/worklist, {PAGE} a page, ≤ {MAX_PAGES} pages a user); worklist"
        f" phase: {WORKERS} staff clients alone. Client-side latency, closed loop."
    )
    for note in result["notes"]:
        print(f"note: {note}")
    print(
        "staff users (worklist size at the largest fill): "
        + ", ".join(f"{u} {n}" for u, n in sizes[-1]["worklist_sizes"].items())
    )
    for s in sizes:
        m, w = s["mixed"], s["worklist_only"]
        f = s["fill"]
        print(
            f"\n{s['cases']:>9,} cases  (filled in {f['seconds']} s: insert {f['insert_s']} s,"
            f" indexes {f['index_s']} s, VACUUM ANALYZE {f['vacuum_analyze_s']} s)"
        )
        print(
            f"  mixed       all      {m['per_s']:7.1f} req/s over {m['seconds']} s"
            f"  (gunicorn CPU {m['server_cpu_ms_per_request']} ms/request,"
            f" load average {m['load_average']})"
        )
        print(f"  mixed       submit   {_fmt(m['endpoints'].get('submit'))}")
        print(f"  mixed       worklist {_fmt(m['endpoints'].get('worklist'))}")
        print(f"  worklist only        {_fmt(w['endpoints'].get('worklist'))}")
        print(
            f"                       gunicorn CPU {w['server_cpu_ms_per_request']} ms/request,"
            f" load average {w['load_average']}"
        )
        print(
            "                       p95 ms by user: "
            + ", ".join(
                f"{u} {w['worklist_by_user'][u]['p95_ms']:.0f}"
                for u in s["worklist_sizes"]
                if u in w["worklist_by_user"]
            )
        )
    deep = (MAX_PAGES - 1) * PAGE
    print(
        f"\nEXPLAIN ANALYZE of the case query at the largest size: first page"
        f" (offset {deep} in brackets)"
    )
    for e in result["explain"]:
        sort = "; ".join(f"{s['node']} ({s['method']}) of {s['rows_in']} rows" for s in e["sorts"])
        print(
            f"  {e['user']:<37} {e['execution_ms']:7.2f} ms"
            f" ({e[f'offset_{deep}_execution_ms']:.2f})"
            f"  indexes: {', '.join(e['indexes']) or 'NONE'}"
            f"{'  seq scan: ' + ','.join(e['seq_scans']) if e['seq_scans'] else ''}"
            f"  rows read {e['rows_read']}  {sort}"
        )
    worst = max(result["explain"], key=lambda e: e["execution_ms"])
    print(f"\n  plan of the slowest ({worst['user']}, {', '.join(worst['seats'])}):")
    for line in worst["plan"].splitlines():
        print(f"    {line}")

    p95 = [s["worklist_only"]["endpoints"].get("worklist", {}).get("p95_ms") for s in sizes]
    mixed_p95 = [s["mixed"]["endpoints"].get("worklist", {}).get("p95_ms") for s in sizes]
    growth = round(p95[-1] / p95[0], 2) if p95 and p95[0] and p95[-1] else None
    errors = sum(s["mixed"]["errors_total"] + s["worklist_only"]["errors_total"] for s in sizes)
    stuck = sum(s["mixed"]["stuck_clients"] + s["worklist_only"]["stuck_clients"] for s in sizes)
    worst_p95 = max((p for p in p95 if p is not None), default=None)
    targets = {
        "worklist_p95_ms": {
            "target": TARGET_P95_MS,
            "value": worst_p95,
            "met": worst_p95 is not None and worst_p95 <= TARGET_P95_MS,
        },
        "worklist_p95_growth": {
            "target": TARGET_GROWTH,
            "value": growth,
            "from": sizes[0]["cases"],
            "to": sizes[-1]["cases"],
            "met": growth is not None and growth <= TARGET_GROWTH,
        },
        "errors": {"target": 0, "value": errors, "met": errors == 0 and stuck == 0},
    }
    print("\ntargets")
    print(
        "  worklist p95 (worklist phase) by size: "
        + ", ".join(f"{s['cases']:,}: {p} ms" for s, p in zip(sizes, p95, strict=True))
        + f"  (under mixed load: {', '.join(f'{p} ms' for p in mixed_p95)})"
    )
    for key, t in targets.items():
        verdict = "met" if t["met"] else "NOT MET"
        print(f"  {key:22} {t['value']!s:>8}   target ≤ {t['target']}   {verdict}")
    if errors:
        print("\nerrors (first few per endpoint and phase):")
        for s in sizes:
            for phase in ("mixed", "worklist_only"):
                for ep, samples in s[phase]["error_samples"].items():
                    for sample in samples:
                        print(f"  {s['cases']:,} {phase} {ep}: {sample}")
    if stuck:
        print(f"note: {stuck} client threads did not stop within the request timeout")
    return {
        "p95": p95,
        "mixed_p95": mixed_p95,
        "growth": growth,
        "errors": errors,
        "targets": targets,
    }


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
