"""Writing what the engine decided: case row, hash-chained events, outbox messages.

Shared by every use case that changes a case (submit, act, sweep, report), so the chain
and the outbox are written one way only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from tongban.engine.chain import canonical, link
from tongban.engine.schema import MatterSpec
from tongban.engine.validators import mask_phone
from tongban.engine.workflow import CaseState, Effect, EventDraft, state_role
from tongban.store.fastpath import Rows
from tongban.store.models import Case, Event, Outbox


def state_of(case: Case) -> CaseState:
    return CaseState(
        state=case.state,
        data=case.data,
        materials=case.materials,
        applicant_id=case.applicant_id,
        org_path=case.org_path,
        entered_at=case.entered_at,
        deadline=case.deadline,
        due_at=case.due_at,
        handler_id=case.handler_id,
        signatures=tuple(tuple(s) for s in case.signatures),
        visited=tuple(case.visited),
        extensions=case.extensions,
        overdue=case.overdue,
    )


def columns_of(spec: MatterSpec, s: CaseState, now: datetime, case: Case | None = None) -> dict:
    st = spec.state(s.state)
    return {
        "state": s.state,
        "data": dict(s.data),
        "materials": dict(s.materials),
        "handler_id": s.handler_id,
        "signatures": [list(x) for x in s.signatures],
        "visited": list(s.visited),
        "extensions": s.extensions,
        "overdue": s.overdue,
        "ever_overdue": s.overdue or (case.ever_overdue if case else False),
        "entered_at": s.entered_at,
        "deadline": s.deadline,
        "due_at": s.due_at,
        "pending_role": ""
        if st.final
        else ("@sign" if st.sign else (state_role(st, s.data) or "")),
        "pending_level": "" if st.final else (st.level or ""),
        "outcome": st.outcome or "" if st.final else "",
        "closed_at": now if st.final else None,
        "updated_at": now,
    }


EVENT_COLUMNS = (
    "case_id",
    "seq",
    "kind",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "at",
    "body",
    "prev_hash",
    "hash",
)


def chain(case: Case, drafts: Iterable[EventDraft], now: datetime) -> Rows:
    """Chain the drafts onto the case (updating case.last_hash and case.event_count): the
    event rows to insert, in EVENT_COLUMNS order."""
    rows = []
    at = now.astimezone(UTC)
    stamp = at.isoformat(timespec="microseconds")
    for d in drafts:
        seq = case.event_count + 1
        from_state = d.from_state or ""
        record = {
            "case": case.pk,
            "seq": seq,
            "kind": d.kind,
            "action": d.action,
            "from": from_state,
            "to": d.to_state,
            "actor": d.actor_id,
            "comment": d.comment,
            "payload": d.payload if type(d.payload) is dict else dict(d.payload),
            "at": stamp,
        }
        body = canonical(record)
        digest = link(case.last_hash, body)
        rows.append(
            (case.pk, seq, d.kind, d.action, from_state, d.to_state, d.actor_id, at, body)
            + (case.last_hash, digest)
        )
        case.last_hash = digest
        case.event_count = seq
    return Rows(Event, EVENT_COLUMNS, rows)


def event_rows(case: Case, drafts: Iterable[EventDraft], now: datetime) -> list[Event]:
    """Chain the drafts onto the case, as unsaved Event instances (for bulk_create)."""
    return [
        Event(**dict(zip(EVENT_COLUMNS, r, strict=True))) for r in chain(case, drafts, now).values
    ]


def event_columns(ev: Event) -> dict:
    """The columns `audit verify` compares with the signed body."""
    return {
        "case": ev.case_id,
        "seq": ev.seq,
        "kind": ev.kind,
        "action": ev.action,
        "from": ev.from_state,
        "to": ev.to_state,
        "actor": ev.actor_id,
        "at": ev.at.astimezone(UTC).isoformat(timespec="microseconds"),
    }


def _recipient(case: Case, payload: dict) -> str:
    to = payload.get("to")
    if to == "applicant":
        return f"user:{case.applicant_id}"
    if to == "user":
        return f"user:{payload['user_id']}"
    if to == "handler" and case.handler_id:
        return f"user:{case.handler_id}"
    if to == "sms":
        # A text message to someone without an account (a mediation's respondent): the
        # number to send to is payload["phone"]; the address shown in lists is masked.
        return f"sms:{mask_phone(payload['phone'])}"
    # A role message goes to that role at the org the sender names (e.g. the street where
    # the pending step sits), by default the case's own org.
    role = payload.get("role") or case.pending_role
    return f"role:{role}@{payload.get('org_path') or case.org_path}"


OUTBOX_COLUMNS = (
    "delivery_id",
    "case_id",
    "topic",
    "recipient",
    "payload",
    "created_at",
    "delivered_at",
    "attempts",
)


def outbox(case: Case, spec: MatterSpec, effects: Iterable[Effect], now: datetime) -> Rows:
    """The outbox messages of the notify effects, in OUTBOX_COLUMNS order."""
    rows = []
    for e in effects:
        if e.kind != "notify":
            continue
        payload = {
            **e.payload,
            "case": case.pk,
            "matter": spec.code,
            "matter_name": spec.name,
            "state_label": spec.state(case.state).label,
        }
        recipient = _recipient(case, payload)
        rows.append((uuid.uuid4(), case.pk, e.key, recipient, payload, now, None, 0))
    return Rows(Outbox, OUTBOX_COLUMNS, rows)
