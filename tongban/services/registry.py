"""Registry use cases: import, export, template, list, reveal, lookup, background jobs.

Who sees what
- A record belongs to a community or grid; staff see the records in the org subtrees
  where they hold any role (`visible_to`, part of every query), exactly as for cases.
- ID numbers and phones are masked in lists, lookups and exports. Staff reveal one value
  at a time (logged in RevealLog with subject "<kind>:<id>", e.g. "person:42"); an
  unmasked export is a bulk reveal: one RevealLog row per exported record.
- Health tags are shown, exported and accepted on import only for records within the
  jurisdiction of a role marked `sees_health: true` in catalog/roles.yaml.
- Without a user (the command line run by an operator, no --as) an import may touch the
  whole tree; an export is masked and without health tags.

Import is all or nothing by default: every row is checked before anything is written,
and the write is one transaction. With `partial=True` the good rows are written and the
rejected ones go back as an xlsx file with a reason column.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.tasks import task
from django.utils import timezone

from tongban.engine import validators as v
from tongban.engine.validators import ValidationError
from tongban.registry import importing, templates, xlsx
from tongban.registry.importing import Checked, Problem
from tongban.registry.kinds import KINDS, ORG, Column, Kind
from tongban.registry.validate import OrgRef, RowContext
from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.store import models as m
from tongban.store.choices import LEVELS
from tongban.store.models import ImportJob, Membership, Org, RevealLog
from tongban.store.models.org import jurisdiction_columns

log = logging.getLogger("tongban.registry")

J_COLUMNS = tuple(f"j_{level}" for level in LEVELS)
RECORD_LEVELS = ("community", "grid")  # the orgs a record may belong to
WRITE_BATCH = 2000  # rows per executemany: the progress bar moves at this step
KEY_BATCH = 500  # keys per IN (...) query: well under SQLite's parameter limit
PROBLEMS_KEPT = 500  # problems stored on a web import job (all are in the rejected file)

Progress = Callable[[int, int], None]


# --- kinds and rights ------------------------------------------------------------------


def kinds() -> list[Kind]:
    return list(KINDS.values())


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(f"没有“{name}”这种台账，可选：{'、'.join(KINDS)}")
    return kind


def model_of(kind: Kind):
    return getattr(m, kind.model)


@lru_cache(maxsize=1)
def health_roles() -> frozenset[str]:
    """Roles marked `sees_health: true` in the deployment's roles.yaml."""
    from tongban.engine.errors import CatalogError
    from tongban.engine.loader import ROLES_FILE, parse_roles

    path = Path(settings.CATALOG_DIR) / ROLES_FILE
    try:
        roles = parse_roles(path.read_text("utf-8"), str(path)).roles
    except (OSError, CatalogError):
        log.warning("cannot read %s: no role sees health tags", path)
        return frozenset()
    return frozenset(code for code, role in roles.items() if role.sees_health)


@dataclass(frozen=True)
class Scope:
    """Where a user may read and write registry records."""

    user: Any = None  # None: the operator's command line, the whole tree
    pairs: frozenset[tuple[str, str]] = frozenset()  # (level, org code) of every role
    health: frozenset[tuple[str, str]] = frozenset()  # … of roles that see health tags
    paths: tuple[str, ...] = ()

    @property
    def system(self) -> bool:
        return self.user is None

    def covers(self, j: Mapping[str, str]) -> bool:
        return self.system or any(j.get(f"j_{lvl}") == code for lvl, code in self.pairs)

    def sees_health(self, j: Mapping[str, str]) -> bool:
        # The operator may load health tags but never reads them: see export().
        return any(j.get(f"j_{lvl}") == code for lvl, code in self.health)

    @property
    def any_health(self) -> bool:
        return bool(self.health)


def scope_of(user) -> Scope:
    """The user's scope; Forbidden unless they hold a role somewhere."""
    if user is None:
        return Scope()
    if not user.is_authenticated:
        raise Forbidden("请先登录")
    rows = list(
        Membership.objects.filter(user_id=user.pk).values_list(
            "role", "org__level", "org__code", "org__path"
        )
    )
    if not rows:
        raise Forbidden("只有工作人员可以使用台账")
    health = health_roles()
    return Scope(
        user=user,
        pairs=frozenset((lvl, code) for _, lvl, code, _ in rows),
        health=frozenset((lvl, code) for role, lvl, code, _ in rows if role in health),
        paths=tuple(sorted({path for *_, path in rows})),
    )


def records(kind: Kind, scope: Scope) -> QuerySet:
    """The kind's records the scope may see."""
    qs = model_of(kind).objects.all()
    if scope.system:
        return qs
    return qs.visible_to(scope.user)


# --- organisations named in a spreadsheet ----------------------------------------------

_CODE_IN_LABEL = re.compile(r"[（(]\s*([0-9]{6,20})\s*[）)]\s*$")


class OrgResolver:
    """Turns the text of the org column into an OrgRef, within the scope.

    Accepts a code (32050710300101), a name (湘城社区第一网格) or an export's label
    (湘城社区第一网格（32050710300101）). The org tree is small: it is read once."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.by_code: dict[str, tuple[int, str, str, str]] = {}
        self.by_name: dict[str, list[str]] = {}
        for pk, code, name, level, path in Org.objects.values_list(
            "pk", "code", "name", "level", "path"
        ):
            self.by_code[code] = (pk, name, level, path)
            self.by_name.setdefault(name, []).append(code)
        self.cache: dict[str, OrgRef] = {}

    def __call__(self, text: str) -> OrgRef:
        found = self.cache.get(text)
        if found is None:
            found = self.cache[text] = self._resolve(text)
        return found

    def _resolve(self, text: str) -> OrgRef:
        label = text.strip()
        match = _CODE_IN_LABEL.search(label)
        code = match[1] if match else label
        if code not in self.by_code:
            codes = self.by_name.get(label, [])
            inside = [c for c in codes if self._inside(self.by_code[c][3])]
            if len(inside) > 1 or (len(codes) > 1 and not inside):
                raise ValidationError(f"名称“{label}”对应多个网格或社区，请改填代码")
            if not codes:
                raise ValidationError(
                    f"找不到网格或社区“{label[:40]}”，请填写代码（如 32050710300101）或准确名称"
                )
            code = (inside or codes)[0]
        pk, name, level, path = self.by_code[code]
        if level not in RECORD_LEVELS:
            raise ValidationError(f"“{name}”不是社区或网格，请填写其下的社区或网格")
        if not self._inside(path):
            raise ValidationError(f"“{name}”不在您的辖区内，不能导入")
        return OrgRef(pk, code, name, jurisdiction_columns(path))

    def _inside(self, path: str) -> bool:
        if self.scope.system:
            return True
        return any(path == p or path.startswith(p + "/") for p in self.scope.paths)


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


# --- template and export ---------------------------------------------------------------


def write_template(kind_name: str, out: IO[bytes] | str | Path) -> None:
    templates.write_template(kind_of(kind_name), out)


def display_value(col: Column, value: Any) -> str:
    if value is None:
        return ""
    if col.type == "bool":
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.7f}".rstrip("0").rstrip(".")
    return str(value)


def mask_value(col: Column, value: Any) -> str:
    if value in (None, ""):
        return ""
    if col.type == "id_card":
        return v.mask_id_card(value)
    if col.type == "phone":
        return v.mask_phone(value)
    return str(value)


def _org_labels(ids) -> dict[int, str]:
    return {
        pk: f"{name}（{code}）"
        for pk, name, code in Org.objects.filter(pk__in=set(ids)).values_list("pk", "name", "code")
    }


def export(
    kind_name: str,
    out: IO[bytes] | str | Path,
    user=None,
    *,
    unmasked: bool = False,
    query: str = "",
    filters: Mapping[str, str] | None = None,
    ip: str | None = None,
) -> int:
    """Write the records the user may see to an xlsx with the import headers; returns
    how many. Masked unless `unmasked`, which logs one reveal per record."""
    kind = kind_of(kind_name)
    scope = scope_of(user)
    if unmasked and scope.system:
        raise Invalid("导出完整的身份证号码和电话需要指定用户（--as），以便记录查看人")
    qs = search(kind, scope, query, filters or {}).order_by("pk")
    columns = [c for c in kind.columns if not c.health or scope.any_health]
    fields = ["pk", "org_id", *J_COLUMNS, *(c.key for c in columns if c.key != ORG)]
    with transaction.atomic():
        rows = list(qs.values_list(*fields))
        if unmasked and rows and kind.personal:
            what = ",".join(c.key for c in kind.personal)
            RevealLog.objects.bulk_create(
                [
                    RevealLog(user=user, subject=f"{kind.name}:{r[0]}", field=what, ip=ip)
                    for r in rows
                ],
                batch_size=WRITE_BATCH,
            )
    labels = _org_labels(r[1] for r in rows)

    def cells() -> Iterator[list[str]]:
        for r in rows:
            values = dict(zip(fields, r, strict=True))
            j = {c: values[c] for c in J_COLUMNS}
            line = []
            for c in columns:
                if c.key == ORG:
                    line.append(labels.get(values["org_id"], ""))
                elif c.health and not scope.sees_health(j):
                    line.append("")
                elif c.personal and not unmasked:
                    line.append(mask_value(c, values[c.key]))
                else:
                    line.append(display_value(c, values[c.key]))
            yield line

    return xlsx.write_rows(
        out,
        kind.label,
        [c.header for c in columns],
        cells(),
        widths=[importing.column_width(c) for c in columns],
    )


# --- pages: list, record, reveal, lookup -------------------------------------------------


def search(kind: Kind, scope: Scope, query: str = "", filters: Mapping[str, str] | None = None):
    """Visible records matching the search box and the filters (column key → value;
    "org" → an org code within the scope)."""
    qs = records(kind, scope)
    query = " ".join(query.split())[:50]
    if query:
        q = Q()
        for key in kind.search:
            col = kind.column(key)
            if col.health:
                continue
            if not col.personal:
                q |= Q(**{f"{key}__icontains": query})
                continue
            # Personal columns match only in full: a search box must not become a way
            # to read a masked number digit by digit.
            parse = v.parse_id_card if col.type == "id_card" else v.parse_phone
            with contextlib.suppress(ValidationError):
                q |= Q(**{key: parse(query)})
        qs = qs.filter(q)
    for key, value in (filters or {}).items():
        value = value.strip()
        if not value:
            continue
        if key == ORG:
            org = Org.objects.filter(code=value).values_list("level", "code").first()
            qs = qs.filter(**{f"j_{org[0]}": org[1]}) if org else qs.none()
            continue
        col = kind.by_key.get(key)
        if col is None or key not in kind.filters or (col.health and not scope.any_health):
            continue
        if col.type == "bool":
            qs = qs.filter(**{key: value == "是"})
        elif col.is_multi:
            # Tag words never contain one another (a test checks it), so a substring
            # match is an exact tag match, on SQLite and PostgreSQL alike.
            qs = qs.filter(**{f"{key}__contains": value})
        else:
            qs = qs.filter(**{key: value})
        if col.health:
            qs = qs.filter(_health_q(scope))
    return qs


def _health_q(scope: Scope) -> Q:
    q = Q(pk__in=[])
    for level, code in scope.health:
        q |= Q(**{f"j_{level}": code})
    return q


@dataclass(frozen=True)
class Cell:
    key: str
    header: str
    text: str
    masked: bool = False
    hidden: bool = False  # a health column the user may not see


def row_cells(kind: Kind, record, scope: Scope, keys: tuple[str, ...] | None = None) -> list[Cell]:
    """One record's values as a person may read them: personal data masked, health tags
    hidden outside the user's health jurisdiction."""
    j = {c: getattr(record, c) for c in J_COLUMNS}
    cells = []
    for key in keys or tuple(c.key for c in kind.columns):
        col = kind.column(key)
        if key == ORG:
            cells.append(Cell(key, col.header, str(record.org)))
            continue
        value = getattr(record, key)
        if col.health and not scope.sees_health(j):
            cells.append(Cell(key, col.header, "", hidden=True))
        elif col.personal and value:
            cells.append(Cell(key, col.header, mask_value(col, value), masked=True))
        else:
            cells.append(Cell(key, col.header, display_value(col, value)))
    return cells


def get_record(kind_name: str, pk: int, user):
    kind = kind_of(kind_name)
    scope = scope_of(user)
    record = records(kind, scope).select_related("org").filter(pk=pk).first()
    if record is None:
        raise NotFound("没有这条记录，或不在您的辖区内")
    return kind, scope, record


def reveal(kind_name: str, pk: int, user, key: str, ip: str | None = None) -> str:
    """The full value of one masked column of one record, logged."""
    kind, _scope, record = get_record(kind_name, pk, user)
    col = kind.by_key.get(key)
    if col is None or not col.personal:
        raise NotFound("没有这个字段")
    with transaction.atomic():
        RevealLog.objects.create(user=user, subject=f"{kind.name}:{pk}", field=key, ip=ip)
    return display_value(col, getattr(record, key))


def lookup(kind_name: str, user, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Records matching `query`, masked, for a form that picks from a registry."""
    kind = kind_of(kind_name)
    scope = scope_of(user)
    if not query.strip():
        return []
    found = (
        search(kind, scope, query).select_related("org").order_by("pk")[: max(1, min(limit, 50))]
    )
    out = []
    for record in found:
        cells = row_cells(kind, record, scope)
        shown = {c.key: c.text for c in cells if not c.hidden}
        out.append(
            {
                "ref": f"{kind.name}:{record.pk}",
                "id": record.pk,
                "label": " ".join(shown[k] for k in kind.title if shown.get(k)),
                "org": str(record.org),
                "fields": shown,
            }
        )
    return out


def resolve(ref: str, user, ip: str | None = None) -> dict[str, Any]:
    """The full values of a record picked in a form ("person:42"), for the service that
    files the case to copy; logged like a reveal. Health tags only where allowed."""
    kind_name, _, raw_pk = ref.partition(":")
    if not raw_pk.isdigit():
        raise NotFound("无效的台账引用")
    kind, scope, record = get_record(kind_name, int(raw_pk), user)
    j = {c: getattr(record, c) for c in J_COLUMNS}
    values: dict[str, Any] = {}
    for col in kind.columns:
        if col.key == ORG:
            values[ORG] = record.org.code
        elif not col.health or scope.sees_health(j):
            values[col.key] = getattr(record, col.key)
    if kind.personal:
        with transaction.atomic():
            RevealLog.objects.create(
                user=user,
                subject=ref,
                field=",".join(c.key for c in kind.personal),
                ip=ip,
            )
    return values


def counts(user) -> list[tuple[Kind, int]]:
    scope = scope_of(user)
    return [(k, records(k, scope).count()) for k in kinds()]


def org_choices(user) -> list[tuple[str, str]]:
    """(code, indented name) of the orgs in the user's jurisdiction, for filters."""
    scope = scope_of(user)
    q = Q(pk__in=[])
    for path in scope.paths:
        q |= Q(path=path) | Q(path__startswith=path + "/")
    orgs = Org.objects.filter(q).order_by("path").values_list("code", "name", "path")
    return [(code, "　" * (path.count("/")) + name) for code, name, path in orgs[:500]]


# --- background import jobs (the workbench upload) ---------------------------------------


def _job_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "registry"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _job_file(job: ImportJob, suffix: str) -> Path:
    return _job_dir() / f"{job.token}{suffix}"


def start_job(
    kind_name: str, user, chunks, file_name: str, *, partial: bool, gcj02: bool
) -> ImportJob:
    """Store an uploaded file and queue its import; the page then polls job_status."""
    kind = kind_of(kind_name)
    scope_of(user)  # staff only
    job = ImportJob(
        kind=kind.name, user=user, file_name=file_name[:200], partial=partial, gcj02=gcj02
    )
    source = _job_file(job, ".xlsx")
    size = 0
    try:
        with source.open("wb") as f:
            for chunk in chunks:
                size += len(chunk)
                if size > xlsx.MAX_FILE_BYTES:
                    raise Invalid(f"文件超过 {xlsx.mb(xlsx.MAX_FILE_BYTES)} 上限，请拆分后分批导入")
                f.write(chunk)
        if size == 0:
            raise Invalid("文件是空的")
        with transaction.atomic():
            job.save()
            # The database backend stores the task in this transaction: a job exists
            # if and only if its task does.
            run_import_job.enqueue(job.pk)
    except BaseException:
        source.unlink(missing_ok=True)
        raise
    return job


@task
def run_import_job(job_id: int) -> str:
    """The background task (run by `tongban db_worker`)."""
    return run_job(job_id)


def run_job(job_id: int) -> str:
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
            status=ImportJob.Status.RUNNING, started_at=timezone.now()
        )
    if not claimed:
        return "already taken"
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    source = _job_file(job, ".xlsx")
    rejected = _job_file(job, ".rejected.xlsx")
    progress = _ProgressFile(_job_file(job, ".progress.json"))
    try:
        result = import_file(
            job.kind,
            source,
            job.user,
            partial=job.partial,
            gcj02=job.gcj02,
            progress=progress,
            rejected_out=rejected,
        )
        status, payload = ImportJob.Status.DONE, result.as_dict(PROBLEMS_KEPT)
    except Exception as exc:  # a job must end; the log keeps the traceback
        log.exception("registry import job %s failed", job_id)
        message = getattr(exc, "message", "") or "导入时发生系统错误，请联系管理员"
        status, payload = ImportJob.Status.FAILED, {"error": message}
    finally:
        source.unlink(missing_ok=True)
    with transaction.atomic():
        ImportJob.objects.filter(pk=job_id).update(
            status=status, finished_at=timezone.now(), result=payload
        )
    progress.path.unlink(missing_ok=True)
    return status


class _ProgressFile:
    """Progress of a running job, in a small file beside it: the import's transaction
    is not committed until the end, so the database cannot carry it (on SQLite another
    connection could not even write while the import holds the lock)."""

    def __init__(self, path: Path):
        self.path = path
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.3 and done < total:
            return
        self.last = now
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"done": done, "total": total}))
        os.replace(tmp, self.path)


def get_job(token: str, user) -> ImportJob:
    job = ImportJob.objects.filter(token=token, user_id=user.pk).first()
    if job is None:
        raise NotFound("没有这个导入任务")
    return job


def job_status(token: str, user) -> dict[str, Any]:
    """What the progress bar shows."""
    job = get_job(token, user)
    done = total = 0
    if job.status == ImportJob.Status.RUNNING:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(_job_file(job, ".progress.json").read_text())
            done, total = int(data["done"]), int(data["total"])
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    percent = 100 if finished else (min(99, done * 100 // total) if total else 0)
    waited = (timezone.now() - job.created_at).total_seconds()
    return {
        "job": job,
        "status": job.status,
        "label": job.get_status_display(),
        "finished": finished,
        "done": done,
        "total": total,
        "percent": percent,
        "stalled": job.status == ImportJob.Status.QUEUED and waited > 15,
        "result": job.result,
    }


def rejected_file(token: str, user) -> Path:
    job = get_job(token, user)
    path = _job_file(job, ".rejected.xlsx")
    if not path.is_file():
        raise NotFound("没有未导入的行")
    return path
