"""The printed report of bench/web.py and the targets it checks."""

from __future__ import annotations

import os

from _web_config import MAX_PAGES, PAGE, TARGET_GROWTH, TARGET_P95_MS, WORKERS


def _fmt(ep: dict | None) -> str:
    if not ep:
        return "—"
    return (
        f"{ep['per_s']:7.1f}/s  p50 {ep['p50_ms']:7.1f}  p95 {ep['p95_ms']:7.1f}"
        f"  p99 {ep['p99_ms']:7.1f}  max {ep['max_ms']:7.1f} ms  ({ep['requests']} req,"
        f" {ep['errors']} errors)"
    )


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
