"""The parent process of bench/engine.py: throwaway databases, one child per database,
and the printed report."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from _common import child_env, drop_create_or_why
from _engine_common import BENCH_SECRET, LABEL


def _pg_params(url: str) -> dict:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    if not params.get("dbname"):
        raise SystemExit(f"--pg-url names no database: {url}")
    return params


def _pg_recreate(url: str, *, drop_only: bool = False) -> str | None:
    """Drop and recreate the bench database; return why not, if PostgreSQL is unreachable."""
    params = _pg_params(url)
    name = params.pop("dbname")
    if name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database '{name}': give the bench its own database")
    return drop_create_or_why(params, name, drop_only=drop_only)


def _child(vendor: str, args, tmp: Path, deadline: float | None) -> dict:
    env = child_env(vendor, tmp, args.pg_url, BENCH_SECRET)
    # Certificates are signed at issue: sign with a throwaway key, never a deployment's own.
    env["TONGBAN_CERT_KEYS"] = "bench:" + base64.b64encode(os.urandom(32)).decode("ascii")
    env.pop("TONGBAN_CERT_PUBLIC_KEYS", None)
    cmd = [sys.executable, str(Path(__file__).resolve().parent / "engine.py"), "--worker", vendor]
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


def _server(r: dict) -> str:
    cpu = r.get("server_cpu_ms_per_step")
    return "" if cpu is None else f" + server {cpu}"


def _print_db(vendor: str, r: dict) -> None:
    s, t, sp, fl = r["settings"], r["tongban"], r["spiffworkflow"], r["floor"]
    detail = ", ".join(f"{k}={v}" for k, v in s.items() if k not in {"file", "database"})
    print(f"\n{LABEL[vendor]} ({detail})")
    print(
        f"  tongban        {t['cases_per_s']:9.1f} cases/s {t['steps_per_s']:9.1f} steps/s"
        f"   ({t['cases']} cases in {t['seconds']} s; case p50 {t['ms_per_case_p50']} ms,"
        f" p95 {t['ms_per_case_p95']} ms; CPU {t['cpu_ms_per_step']} ms/step{_server(t)})"
    )
    ms = "  ".join(f"{k} {v:.3f}" for k, v in t["ms_per_step"].items())
    qs = "  ".join(f"{k} {v}" for k, v in t["queries_per_step"].items())
    print(f"                 ms per step: {ms}")
    print(
        f"                 statements per step: {qs}  (case: {t['queries_per_case']};"
        " BEGIN/COMMIT included, each one round trip on PostgreSQL)"
    )
    c = t["check"]
    print(
        f"                 certificates {c['first']} … {c['last']}: {c['certificates']} for"
        f" {c['cases']} approved cases, gapless={c['gapless']}"
    )
    print(
        f"  SpiffWorkflow  {sp['cases_per_s']:9.1f} cases/s {sp['steps_per_s']:9.1f} steps/s"
        f"   ({sp['cases']} flows in {sp['seconds']} s; {sp['serialized_bytes']} bytes of JSON"
        f" per workflow; CPU {sp['cpu_ms_per_step']} ms/step{_server(sp)}; v{sp['version']})"
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


def _strip(r: dict | None) -> dict | None:
    if r is None:
        return None
    return {k: v for k, v in r.items() if k != "profile"}
