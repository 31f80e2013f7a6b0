"""The hash chain that makes a case's history tamper-evident.

Each event is stored as its canonical JSON body; its hash is sha256(previous hash + body).
Changing, removing or reordering any stored event breaks every hash after it, and
`tongban audit verify` names the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical(record: Mapping[str, Any]) -> str:
    return json.dumps(
        record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default
    )


def link(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    body: str
    prev_hash: str
    hash: str
    columns: Mapping[str, Any]  # the queryable copies (kind, state, ...) kept beside the body


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def verify(events: Iterable[StoredEvent]) -> Break | None:
    """Return the first broken link of one case's chain, or None when it is intact."""
    prev = GENESIS
    expected_seq = 1
    for ev in events:
        if ev.seq != expected_seq:
            return Break(
                ev.seq, f"序号不连续：应为 {expected_seq}，实为 {ev.seq}（有事件被删除或插入）"
            )
        if ev.prev_hash != prev:
            return Break(ev.seq, "前一事件的哈希不匹配（之前的事件被改动或删除）")
        if link(prev, ev.body) != ev.hash:
            return Break(ev.seq, "事件内容与哈希不符（事件被改动）")
        try:
            body = json.loads(ev.body)
        except ValueError:
            return Break(ev.seq, "事件内容不是合法的 JSON")
        for key, value in ev.columns.items():
            if body.get(key) != value:
                return Break(ev.seq, f"字段 {key} 与已签名的事件内容不一致")
        prev = ev.hash
        expected_seq += 1
    return None
