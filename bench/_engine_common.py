"""Shared by bench/engine.py and its helpers: the flow both engines run, targets, timing."""

from __future__ import annotations

import statistics
import sys
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


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


class Measure:
    """Accumulates units of work and their wall time over several rounds."""

    def __init__(self, steps_per_unit: int, server_cpu=None):
        self.steps_per_unit = steps_per_unit
        self.units = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # this process's CPU time: less sensitive to a busy machine
        # The PostgreSQL backend's CPU time (the server's share of each step), if readable.
        self.server_cpu = server_cpu
        self.server_cpu_seconds = 0.0
        self.latencies: list[float] = []

    def run(self, unit, duration: float) -> None:
        clock = time.perf_counter
        server0 = self.server_cpu() if self.server_cpu else None
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
        if server0 is not None:
            self.server_cpu_seconds += self.server_cpu() - server0
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
            "server_cpu_ms_per_step": (
                round(self.server_cpu_seconds / (self.units * self.steps_per_unit) * 1e3, 3)
                if self.units and self.server_cpu
                else None
            ),
        }


def backend_cpu(vendor: str):
    """A clock of the PostgreSQL backend's CPU seconds (from /proc: the server runs on this
    machine in the bench set-up), or None (SQLite runs in-process; or /proc unreadable)."""
    if vendor != "postgresql":
        return None
    import os

    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        path = f"/proc/{cur.fetchone()[0]}/stat"
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = open(path).read().rsplit(")", 1)[1].split()  # noqa: SIM115
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    try:
        read()
    except OSError:
        return None
    return read
