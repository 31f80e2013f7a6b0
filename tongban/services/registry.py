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
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from tongban.registry import importing, xlsx
from tongban.registry.kinds import KINDS, ORG, Column, Kind
from tongban.services.errors import Forbidden, Invalid, NotFound
from tongban.services.registry_import import (
    KEY_BATCH,
    WRITE_BATCH,
    ImportResult,
    Progress,
    _existing_keys,
    _lock_kind,
    _Tracker,
    _write,
    import_file,
)
from tongban.services.registry_read import (
    Cell,
    _health_q,
    _org_labels,
    counts,
    display_value,
    export,
    get_record,
    lookup,
    mask_value,
    org_choices,
    resolve,
    reveal,
    row_cells,
    search,
    write_template,
)
from tongban.services.registry_scope import (
    _CODE_IN_LABEL,
    J_COLUMNS,
    RECORD_LEVELS,
    OrgResolver,
    Scope,
    health_roles,
    kind_of,
    kinds,
    model_of,
    records,
    scope_of,
)
from tongban.store.models import ImportJob

__all__ = [
    "J_COLUMNS",
    "KEY_BATCH",
    "KINDS",
    "ORG",
    "PROBLEMS_KEPT",
    "RECORD_LEVELS",
    "WRITE_BATCH",
    "Cell",
    "Column",
    "Forbidden",
    "ImportResult",
    "Invalid",
    "Kind",
    "NotFound",
    "OrgResolver",
    "Progress",
    "Scope",
    "_CODE_IN_LABEL",
    "_Tracker",
    "_existing_keys",
    "_health_q",
    "_lock_kind",
    "_org_labels",
    "_write",
    "counts",
    "display_value",
    "export",
    "get_job",
    "get_record",
    "health_roles",
    "import_file",
    "importing",
    "job_status",
    "kind_of",
    "kinds",
    "lookup",
    "mask_value",
    "model_of",
    "org_choices",
    "records",
    "rejected_file",
    "resolve",
    "reveal",
    "row_cells",
    "run_import_job",
    "run_job",
    "scope_of",
    "search",
    "start_job",
    "write_template",
    "xlsx",
]

log = logging.getLogger("tongban.registry")

PROBLEMS_KEPT = 500  # problems stored on a web import job (all are in the rejected file)


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
