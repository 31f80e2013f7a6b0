"""Background work: mark overdue steps and escalate them, deliver outbox messages.

Several workers may run at once: on PostgreSQL they take rows with
`SELECT … FOR UPDATE SKIP LOCKED`; on SQLite every write transaction is IMMEDIATE, so they
simply take turns.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tongban.engine import workflow
from tongban.engine.validators import mask_phone
from tongban.services import catalog
from tongban.services.cases import apply
from tongban.services.records import state_of
from tongban.store.models import Case, Delivery, Outbox

log = logging.getLogger("tongban.worker")


def _locked(qs):
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def sweep(now: datetime | None = None, batch: int = 200) -> int:
    """Mark every open case whose step deadline has passed; returns how many."""
    now = now or timezone.now()
    due = list(
        Case.objects.filter(outcome="", overdue=False, deadline__lt=now)
        .order_by("deadline")
        .values_list("pk", flat=True)[:batch]
    )
    marked = 0
    for pk in due:
        with transaction.atomic():
            case = _locked(Case.objects.select_related("matter").filter(pk=pk)).first()
            if case is None:
                continue  # another worker has it
            spec = catalog.spec_of(case.matter)
            outcome = workflow.sweep(spec, state_of(case), now)
            if outcome is None:
                continue
            apply(case, spec, outcome, workflow.SYSTEM_ACTOR, now)
            marked += 1
    return marked


def _log_path() -> Path:
    path = Path(settings.VAR_DIR) / "log" / "outbox.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def deliver(batch: int = 200, now: datetime | None = None) -> int:
    """Deliver pending messages to the log sink, each exactly once; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            _locked(Outbox.objects.filter(delivered_at__isnull=True)).order_by("pk")[:batch]
        )
        if not rows:
            return 0
        Delivery.objects.bulk_create(
            [
                Delivery(
                    delivery_id=r.delivery_id,
                    topic=r.topic,
                    recipient=r.recipient,
                    payload=r.payload,
                    delivered_at=now,
                )
                for r in rows
            ]
        )
        Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(delivered_at=now)
        lines = [
            json.dumps(
                {
                    "delivery_id": str(r.delivery_id),
                    "topic": r.topic,
                    "to": r.recipient,
                    "payload": _loggable(r.payload),
                    "at": now.isoformat(),
                },
                ensure_ascii=False,
            )
            for r in rows
        ]
        # The database row is the delivery; the log line follows the commit.
        transaction.on_commit(lambda: _append(lines))
    return len(rows)


def _loggable(payload: dict) -> dict:
    """The payload as the log file keeps it: a phone number masked as in every list (the
    Delivery row keeps it whole, for whoever sends the text message)."""
    if isinstance(payload.get("phone"), str) and payload["phone"]:
        return {**payload, "phone": mask_phone(payload["phone"])}
    return payload


def _append(lines: list[str]) -> None:
    with _log_path().open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def run_once(now: datetime | None = None) -> tuple[int, int]:
    from tongban.services import bundles, followups, requests

    swept = (
        sweep(now)
        + followups.sweep_reports(now)
        + followups.sweep_reminders(now)
        + bundles.sweep_overdue(now)
        + requests.sweep(now)  # 催办 a day after a missed deadline; merged requests follow
    )
    return swept, deliver(now=now)


def run(interval: float = 2.0, stop_after: float | None = None) -> None:
    """Loop until interrupted; a database outage is logged and retried, never fatal."""
    started = time.monotonic()
    backoff = interval
    while stop_after is None or time.monotonic() - started < stop_after:
        try:
            swept, delivered = run_once()
            if swept or delivered:
                log.info("marked %d overdue, delivered %d messages", swept, delivered)
            backoff = interval
            if delivered:
                continue  # more may be waiting
        except DatabaseError as exc:
            log.warning("database unavailable (%s); retrying in %.0fs", exc, backoff)
            connection.close()
            backoff = min(backoff * 2, 30.0)
        time.sleep(backoff)
