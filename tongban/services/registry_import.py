"""Registry import: check every row of a spreadsheet, then upsert by natural key.

Split from tongban.services.registry (which re-exports every name); see its docstring."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from tongban.registry import importing
from tongban.registry.importing import Checked, Problem
from tongban.registry.kinds import KINDS, ORG, Kind
from tongban.registry.validate import OrgRef, RowContext
from tongban.services.registry_scope import (
    J_COLUMNS,
    OrgResolver,
    Scope,
    kind_of,
    model_of,
    scope_of,
)

WRITE_BATCH = 2000  # rows per executemany: the progress bar moves at this step
KEY_BATCH = 500  # keys per IN (...) query: well under SQLite's parameter limit

Progress = Callable[[int, int], None]


# --- import ----------------------------------------------------------------------------


@dataclass
class ImportResult:
    kind: str
    rows: int = 0  # data rows in the file
    created: int = 0
    updated: int = 0
    rejected: int = 0  # rows not imported
    problems: list[Problem] = field(default_factory=list)
    imported: bool = False  # anything written
    fatal: bool = False  # the file itself was refused
    rejected_file: str = ""  # path of the rejected-rows xlsx, if written

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        label = KINDS[self.kind].label
        if self.fatal:
            return f"{label}：文件未导入"
        if not self.imported and self.problems:
            if self.rows and self.rejected >= self.rows:
                return f"{label}：共 {self.rows} 行，全部有误，未导入任何记录"
            return f"{label}：共 {self.rows} 行，{self.rejected} 行有误，整个文件未导入"
        text = f"{label}：共 {self.rows} 行，新增 {self.created} 条，更新 {self.updated} 条"
        if self.rejected:
            text += f"，{self.rejected} 行未导入"
        return text

    def as_dict(self, problems: int | None = None) -> dict[str, Any]:
        kept = self.problems if problems is None else self.problems[:problems]
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "imported": self.imported,
            "fatal": self.fatal,
            "summary": self.summary(),
            "problem_count": len(self.problems),
            "problems": [p.as_dict() for p in kept],
            "has_rejected_file": bool(self.rejected_file),
        }


def import_file(
    kind_name: str,
    path: str | Path,
    user=None,
    *,
    partial: bool = False,
    gcj02: bool = False,
    progress: Progress | None = None,
    rejected_out: str | Path | None = None,
) -> ImportResult:
    """Import a spreadsheet: check every row, then upsert by natural key in one
    transaction — all rows, or (partial) only the good ones; never half a file."""
    kind = kind_of(kind_name)
    scope = scope_of(user)
    resolver = OrgResolver(scope)
    ctx = RowContext(
        resolve_org=resolver,
        may_write_health=lambda org: scope.system or scope.sees_health(org.jurisdiction),
        gcj02=gcj02,
    )
    tracker = _Tracker(progress)
    checked = importing.check_file(kind, path, ctx, progress=tracker.reading)
    result = ImportResult(kind.name, rows=checked.rows, fatal=checked.fatal)
    if not checked.fatal:
        with transaction.atomic():
            _lock_kind(kind)
            existing = _existing_keys(kind, checked, scope)
            if partial or not checked.problems:
                result.created, result.updated = _write(
                    kind, checked, existing, scope, user, tracker
                )
                result.imported = bool(checked.records)
    result.problems = sorted(checked.problems, key=lambda p: p.row or 0)
    result.rejected = len(checked.rejected)
    if rejected_out and checked.rejected:
        importing.write_rejected(checked, rejected_out)
        result.rejected_file = str(rejected_out)
    tracker.finish()
    return result


class _Tracker:
    """One progress bar over two phases: reading rows, then writing the good ones."""

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.rows = 0
        self.writes = 0

    def reading(self, done: int, estimate: int) -> None:
        self.rows = done
        if self.progress:
            self.progress(done, estimate * 2)

    def writing(self, written: int, total: int) -> None:
        self.writes = total
        if self.progress:
            self.progress(self.rows + written, self.rows + total)

    def finish(self) -> None:
        if self.progress:
            total = self.rows + self.writes
            self.progress(total, total)


def _lock_kind(kind: Kind) -> None:
    """Imports of one kind take turns, so the jurisdiction check of existing keys and the
    upsert see the same rows. SQLite already serialises writers (BEGIN IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = zlib.crc32(f"tongban.registry.{kind.name}".encode())
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _existing_keys(kind: Kind, checked: Checked, scope: Scope) -> set[tuple]:
    """Natural keys of checked rows already stored. A key stored in another
    jurisdiction is not the importer's to change: that row is rejected."""
    model = model_of(kind)
    by_key = {importing.natural_key(kind, values): row for row, values in checked.records.items()}
    existing: set[tuple] = set()
    if ORG in kind.natural_key:
        # The org is part of the key and was resolved inside the scope: no key stored
        # elsewhere can collide.
        orgs = {values[ORG].id for values in checked.records.values()}
        fields = [("org_id" if k == ORG else k) for k in kind.natural_key]
        org_ids = list(orgs)
        for i in range(0, len(org_ids), KEY_BATCH):
            rows = model.objects.filter(org_id__in=org_ids[i : i + KEY_BATCH])
            existing.update(k for k in rows.values_list(*fields) if k in by_key)
        return existing
    (field_name,) = kind.natural_key
    keys = [k[0] for k in by_key]
    for i in range(0, len(keys), KEY_BATCH):
        chunk = keys[i : i + KEY_BATCH]
        for key, *j in model.objects.filter(**{f"{field_name}__in": chunk}).values_list(
            field_name, *J_COLUMNS
        ):
            if scope.covers(dict(zip(J_COLUMNS, j, strict=True))):
                existing.add((key,))
            else:
                checked.reject(
                    by_key[(key,)],
                    kind.natural_key,
                    f"该{kind.key_headers}已由其他辖区登记，不能在此导入；"
                    "如已迁入本辖区，请联系原辖区移交",
                )
    return existing


def _write(
    kind: Kind, checked: Checked, existing: set[tuple], scope: Scope, user, tracker: _Tracker
) -> tuple[int, int]:
    """Upsert the checked records by natural key; returns (created, updated)."""
    model = model_of(kind)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    keys = [c.key for c in kind.columns if c.key != ORG]
    fields = [ORG, *J_COLUMNS, "created_at", "updated_at", "updated_by", *keys]
    # A column the file lacks is stored blank on insert and left alone on update; so is
    # the created time.
    update = [
        f
        for f in fields
        if f not in kind.natural_key
        and f != "created_at"
        and (f not in keys or f in checked.present)
    ]
    health = {c.key for c in kind.health}
    user_id = user.pk if user is not None else None
    # Rows the importer may not write health tags for keep the stored ones on update.
    groups: dict[bool, list[tuple]] = {True: [], False: []}
    created = updated = 0
    for values in checked.records.values():
        org: OrgRef = values[ORG]
        j = org.jurisdiction
        groups[scope.system or scope.sees_health(j)].append(
            (
                org.id,
                *(j[c] for c in J_COLUMNS),
                now,
                now,
                user_id,
                *(values[k] for k in keys),  # every key: blank cells hold their default
            )
        )
        if importing.natural_key(kind, values) in existing:
            updated += 1
        else:
            created += 1
    total = len(checked.records)
    written = 0
    for writes_health, rows in groups.items():
        update_fields = [f for f in update if writes_health or f not in health]
        for i in range(0, len(rows), WRITE_BATCH):
            batch = rows[i : i + WRITE_BATCH]
            model.objects.upsert(
                fields,
                batch,
                unique_fields=list(kind.natural_key),
                update_fields=update_fields,
            )
            written += len(batch)
            tracker.writing(written, total)
    return created, updated
