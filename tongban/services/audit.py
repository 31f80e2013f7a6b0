"""Check every case's hash chain and name the first broken link."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tongban.engine.chain import GENESIS, StoredEvent, verify
from tongban.services.records import event_columns
from tongban.store.models import Case, Event


@dataclass(frozen=True)
class AuditFailure:
    case_id: int
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"办件 {self.case_id} 第 {self.seq} 条记录：{self.reason}"


def verify_case(case: Case) -> AuditFailure | None:
    events = Event.objects.filter(case_id=case.pk).order_by("seq")
    stored = (
        StoredEvent(e.seq, e.body, e.prev_hash, e.hash, event_columns(e)) for e in events.iterator()
    )
    broken = verify(stored)
    if broken is not None:
        return AuditFailure(case.pk, broken.seq, broken.reason)
    last = events.last()
    if (last.hash if last else GENESIS) != case.last_hash or (
        last.seq if last else 0
    ) != case.event_count:
        return AuditFailure(
            case.pk, case.event_count, "办件的最后哈希与记录不一致（记录被截断或办件被改动）"
        )
    if last is not None and last.to_state != case.state:
        return AuditFailure(
            case.pk, last.seq, f"办件状态 '{case.state}' 与最后一条记录 '{last.to_state}' 不一致"
        )
    return None


def verify_all(case_ids: list[int] | None = None) -> Iterator[tuple[int, AuditFailure | None]]:
    cases = Case.objects.order_by("pk")
    if case_ids:
        cases = cases.filter(pk__in=case_ids)
    for case in cases.only("pk", "last_hash", "event_count", "state").iterator(chunk_size=500):
        yield case.pk, verify_case(case)
