#!/usr/bin/env python
"""Benchmark: importing a 100 000-row persons spreadsheet into the registry.

    .venv/bin/python bench/registry_import.py [--quick] [--json] [--rows N]
                                              [--db sqlite|postgresql|both] [--pg-url URL] [--keep]

Generates one persons file (valid ID numbers with correct check digits, phones, addresses,
tags, two grids) laid out as Excel lays it out (a shared-string table), then for each
database, in a child process of its own on a throwaway database, times
`services.registry.import_file` as a street clerk would run it (`tongban registry import
person FILE --as USER`):

1. first import: every row new (read and check every row, then one transaction of
   batched upserts);
2. re-import of the same file: every row an update, nothing duplicated.

The target is 100 000 rows in under 60 s. `--quick` uses 10 000 rows. `--json` prints
exactly one JSON object as the last line of stdout. A busy machine lowers the figures: the
load average is reported with them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from _common import child_env, drop_create_or_why  # bench/ is sys.path[0]: this is a script

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/tongban_registry_bench"
BENCH_SECRET = "bench-only-key-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
TARGET_SECONDS = 60.0
TARGET_ROWS = 100_000
LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
GRIDS = ("32050710300101", "32050710300201")


# --- the file -------------------------------------------------------------------------


def _id_number(n: int) -> str:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tongban.engine.validators import id_check_digit

    year, rest = 1940 + n % 60, n // 60
    first17 = (
        f"320507{year}{1 + (rest // 28) % 12:02d}{1 + rest % 28:02d}{(rest // 336) % 1000:03d}"
    )
    return first17 + id_check_digit(first17)


TAGS = ("党员", "志愿者", "独居老人", "党员、志愿者", "", "", "高龄老人", "")


def person_rows(n: int):
    yield ["姓名", "身份证号码", "联系电话", "居住地址", "所属网格/社区", "人员标签", "备注"]
    for i in range(n):
        yield [
            f"居民{i}",
            _id_number(i),
            f"13{9 - i % 3}{i:08d}",
            f"湘城大街{i % 500}号{i % 30}室",
            GRIDS[i % 2],
            TAGS[i % len(TAGS)],
            "",
        ]


def write_xlsx(path: Path, rows) -> None:
    """A minimal workbook with a shared-string table, as Excel writes one (written
    directly: openpyxl takes longer to write the file than tongban takes to import it)."""
    strings: dict[str, int] = {}
    parts = []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, value in enumerate(row):
            if value == "":
                continue
            index = strings.setdefault(value, len(strings))
            cells.append(f'<c r="{chr(65 + c)}{r}" t="s"><v>{index}</v></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    sheet = f'<worksheet xmlns="{main}"><sheetData>{"".join(parts)}</sheetData></worksheet>'
    sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{main}" count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>',
        )


# --- one database, in a child process --------------------------------------------------


def worker(vendor: str, file: Path, rows: int) -> dict:
    import django

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from tongban.services import registry
    from tongban.store.models import Membership, Org, Person

    call_command("migrate", verbosity=0, interactive=False)
    district = Org.objects.create(code="320507", name="相城区", level="district")
    street = Org.objects.create(code="320507103", name="阳澄湖镇", level="street", parent=district)
    for code, name in (("320507103001", "湘城社区"), ("320507103002", "消泾村")):
        community = Org.objects.create(code=code, name=name, level="community", parent=street)
        Org.objects.create(code=code + "01", name=name + "第一网格", level="grid", parent=community)
    clerk = get_user_model().objects.create(username="clerk_bench")
    Membership.objects.create(user=clerk, org=street, role="clerk")

    def timed(label: str) -> dict:
        marks: dict[str, float] = {}
        started = time.perf_counter()
        cpu = time.process_time()

        def progress(done: int, total: int) -> None:
            if done > rows and "read" not in marks:
                marks["read"] = time.perf_counter() - started

        result = registry.import_file("person", file, clerk, progress=progress)
        seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"{label}: {result.problems[:3]}")
        read = marks.get("read", seconds)
        return {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "seconds": round(seconds, 2),
            "rows_per_s": round(result.rows / seconds, 1),
            "read_and_check_seconds": round(read, 2),
            "write_seconds": round(seconds - read, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
        }

    first = timed("first import")
    again = timed("re-import")
    stored = Person.objects.count()
    return {
        "vendor": vendor,
        "server": connection.Database.sqlite_version
        if vendor == "sqlite"
        else connection.cursor().connection.info.server_version,
        "first_import": first,
        "re_import": again,
        "stored": stored,
        "no_duplicates": stored == rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _pg_recreate(url: str, *, drop_only: bool = False) -> str | None:
    import dj_database_url

    cfg = dj_database_url.parse(url)
    name = cfg["NAME"]
    if name in {"postgres", "template0", "template1", "tongban"}:
        raise SystemExit(f"refusing to drop database '{name}': give the bench its own database")
    params = {
        k: v
        for k, v in {
            "host": cfg.get("HOST"),
            "port": cfg.get("PORT"),
            "user": cfg.get("USER"),
            "password": cfg.get("PASSWORD"),
        }.items()
        if v
    }
    return drop_create_or_why(params, name, drop_only=drop_only)


def _child(vendor: str, args, tmp: Path, file: Path, rows: int) -> dict:
    env = child_env(vendor, tmp, args.pg_url, BENCH_SECRET)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", vendor]
    cmd += ["--file", str(file), "--rows", str(rows)]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{LABEL[vendor]} benchmark failed (exit {proc.returncode})")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help=f"10 000 rows instead of {TARGET_ROWS}")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--rows", type=int, help="rows in the generated file")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    p.add_argument("--keep", action="store_true", help="keep the throwaway databases and file")
    p.add_argument("--worker", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    p.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    rows = args.rows or (10_000 if args.quick else TARGET_ROWS)

    if args.worker:
        print(json.dumps(worker(args.worker, args.file, rows), ensure_ascii=False))
        return 0

    vendors = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    notes = []
    if "postgresql" in vendors:
        why = _pg_recreate(args.pg_url)
        if why is not None:
            vendors.remove("postgresql")
            notes.append(f"PostgreSQL at {args.pg_url} is unreachable ({why})")
            print(notes[-1], file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="tongban-registry-bench-"))
    results = {}
    try:
        file = tmp / "persons.xlsx"
        t0 = time.perf_counter()
        write_xlsx(file, person_rows(rows))
        made = time.perf_counter() - t0
        size = file.stat().st_size
        print(f"persons file: {rows} rows, {size / 1e6:.1f} MB, generated in {made:.1f} s")
        for vendor in vendors:
            r = results[vendor] = _child(vendor, args, tmp, file, rows)
            f, a = r["first_import"], r["re_import"]
            print(f"\n{LABEL[vendor]} {r['server']}")
            for label, x in (("first import", f), ("re-import", a)):
                print(
                    f"  {label:<13} {x['seconds']:7.2f} s  {x['rows_per_s']:9.1f} rows/s"
                    f"  (read+check {x['read_and_check_seconds']} s, write {x['write_seconds']}"
                    f" s; CPU {x['cpu_seconds']} s; created {x['created']}, updated {x['updated']})"
                )
            print(
                f"  stored {r['stored']} persons, no duplicates: {r['no_duplicates']};"
                f" peak RSS {r['peak_rss_mb']} MB; load average {r['load_average']}"
                f" on {os.cpu_count()} CPUs"
            )
    finally:
        if "postgresql" in vendors and not args.keep:
            _pg_recreate(args.pg_url, drop_only=True)
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    met = {
        v: r["first_import"]["seconds"] * TARGET_ROWS / rows < TARGET_SECONDS
        for v, r in results.items()
    }
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        notes.append(
            f"load average {load:.1f} on {os.cpu_count()} CPUs: other processes shared the"
            " machine, so wall-clock figures are inflated; cpu_seconds is this process's share"
        )
        print(f"note: {notes[-1]}")
    summary = {
        "bench": "registry_import",
        "rows": rows,
        "file_bytes": size,
        "target": f"{TARGET_ROWS} rows in < {TARGET_SECONDS:.0f} s",
        "results": results,
        "target_met_scaled_to_100k": met,
        "notes": notes,
    }
    for v, ok in met.items():
        print(f"{LABEL[v]}: {'meets' if ok else 'misses'} the target ({summary['target']})")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
