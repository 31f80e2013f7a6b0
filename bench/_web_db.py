"""bench/web.py in this process: the database, Django set up, the staff chosen, tokens,
and EXPLAIN ANALYZE of the worklist queries."""

from __future__ import annotations

import json
import time
from pathlib import Path

import _server
from _common import drop_create
from _web_config import BENCH_SECRET, LOOPBACK, MAX_PAGES, MULTI, PAGE


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
    params = _pg_params(url)
    name = params.pop("dbname")
    if name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database '{name}': give the bench its own database")
    drop_create(params, name, drop_only=drop_only)


def _environment(args, tmp: Path) -> dict:
    """The environment of this process's Django and of the server: the bench database,
    a throwaway var/ folder, production mode with a bench key."""
    return _server.environment(args.pg_url, tmp, BENCH_SECRET)


def _setup_django() -> dict:
    t0, t1, t2, t3 = _server.setup_django(with_demo_cases=False)
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
