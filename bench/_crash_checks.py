"""What bench/crash.py checks after the storm, in this process's Django against the crash
database: acknowledged submissions exactly once, hash chains, outbox delivery, certificate
numbers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from _load_stack import ROOT

MARKER = re.compile(r"M[0-9a-f]{16}")


def _fresh() -> None:
    from django.db import connection

    connection.close()  # the database may have restarted under this process's connection


def submissions(acks: list[tuple[str, str, int]], rejected: list[str]) -> dict:
    """Each acknowledged marker must be in exactly one case (and the one whose id the client
    was given); a submission refused with 503 while the database was down must be in none."""
    from tongban.store.models import Case

    _fresh()
    seen: Counter[str] = Counter()
    where: dict[str, int] = {}
    rows = Case.objects.filter(matter__code__in=["freight_return", "citizen_request"])
    for pk, data in rows.values_list("pk", "data").iterator(chunk_size=2000):
        text = f"{data.get('cargo', '')} {data.get('content', '')}"
        for m in set(MARKER.findall(text)):
            seen[m] += 1
            where[m] = pk
    acked = {m for _, m, _ in acks}
    wrong_case = sum(1 for _, m, pk in acks if seen[m] == 1 and where[m] != pk)
    return {
        "acknowledged": len(acks),
        "acknowledged_by_kind": dict(Counter(k for k, _, _ in acks)),
        "lost": sum(1 for m in acked if seen[m] == 0),
        "duplicated": sum(1 for m in acked if seen[m] > 1),
        "duplicated_unacknowledged": sum(1 for m, n in seen.items() if n > 1 and m not in acked),
        "wrong_case_id": wrong_case,
        "unacknowledged_but_stored": sum(1 for m in seen if m not in acked),
        "refused_during_outage_but_stored": sum(1 for m in rejected if seen[m]),
    }


def audit(env: dict) -> dict:
    """`tongban audit verify` over every case: one stderr line per broken chain."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tongban", "audit", "verify"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    failures = [line for line in proc.stderr.splitlines() if line.startswith("办件 ")]
    if proc.returncode and not failures:
        failures = [proc.stderr.strip()[-300:] or f"exit {proc.returncode}"]
    return {
        "audit_failures": len(failures),
        "audit_exit": proc.returncode,
        "audit_output": (proc.stdout.strip() or proc.stderr.strip())[-200:],
        "audit_samples": failures[:5],
        "audit_s": round(time.perf_counter() - t0, 1),
    }


def drain(timeout: float) -> int:
    """Wait for the worker to deliver everything pending; returns what is left."""
    from tongban.store.models import Outbox

    deadline = time.monotonic() + timeout
    while True:
        _fresh()
        left = Outbox.objects.filter(delivered_at__isnull=True).count()
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(1.0)


def outbox(var_dir: Path) -> dict:
    """Every message delivered exactly once: a Delivery row per outbox row (the database is
    the sink; its delivery_id is unique), and the log file's lines by delivery id."""
    from django.db.models import Count

    from tongban.store.models import Delivery, Outbox

    _fresh()
    ids = set(Outbox.objects.values_list("delivery_id", flat=True))
    delivered = Counter(Delivery.objects.values_list("delivery_id", flat=True))
    repeated_rows = Delivery.objects.values("delivery_id").annotate(n=Count("id")).filter(n__gt=1)
    lines: Counter[str] = Counter()
    path = var_dir / "log" / "outbox.jsonl"
    if path.exists():
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                lines[json.loads(line)["delivery_id"]] += 1
    return {
        "outbox_messages": len(ids),
        "outbox_lost": sum(1 for i in ids if delivered[i] == 0),
        "outbox_repeated": repeated_rows.count() + sum(1 for n in lines.values() if n > 1),
        "outbox_undelivered_flag": Outbox.objects.filter(delivered_at__isnull=True).count(),
        # the log line follows the commit (worker.deliver): a kill in between loses the line,
        # never the delivery record
        "log_lines_missing": sum(1 for i in ids if delivered[i] and lines[str(i)] == 0),
    }


def numbers() -> dict:
    """Certificate numbers per scope (the number without its sequence digits, whose width the
    matter's numbering pattern gives): 1 … n with no hole and no repeat."""
    from tongban.engine.numbering import compile_pattern
    from tongban.services import catalog
    from tongban.store.models import Certificate

    _fresh()
    widths: dict[tuple[str, str], int] = {}
    scopes: dict[tuple[str, str], list[int]] = {}
    rows = Certificate.objects.values_list("matter_code", "key", "number")
    for matter, key, number in rows.iterator(chunk_size=2000):
        if (matter, key) not in widths:
            spec = catalog.spec_of(catalog.current_version(matter))
            rule = next(c for c in spec.outputs.certificates if c.key == key).numbering
            widths[matter, key] = compile_pattern(rule.pattern, rule.reset).seq_width
        w = widths[matter, key]
        scopes.setdefault((matter, number[:-w]), []).append(int(number[-w:]))
    gaps = repeated = 0
    for seqs in scopes.values():
        unique = set(seqs)
        repeated += len(seqs) - len(unique)
        gaps += max(unique) - len(unique)
    return {
        "certificates": sum(len(s) for s in scopes.values()),
        "number_scopes": len(scopes),
        "number_gaps": gaps,
        "number_repeated": repeated,
    }
