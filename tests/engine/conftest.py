"""Shared fixtures for the engine tests: the demo catalog, a cast of actors, fixed times.

The engine is pure Python; nothing here touches Django or a database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tongban.engine.calendar import WorkCalendar
from tongban.engine.chain import GENESIS, StoredEvent, canonical, link
from tongban.engine.loader import LoadedMatter, load_catalog
from tongban.engine.workflow import Actor, EventDraft, Membership

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "catalog"
ROLES_YAML = CATALOG / "roles.yaml"
ROAD_YAML = CATALOG / "demo" / "road_occupation.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden"

SH = ZoneInfo("Asia/Shanghai")
DISTRICT = "320507"
STREET_A = "320507/320507104"
STREET_B = "320507/320507105"


def at(text: str) -> datetime:
    """'2026-03-02 09:00' as an aware Asia/Shanghai datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def staff(user_id: int, *memberships: tuple[str, str, str], name: str = "") -> Actor:
    return Actor(
        user_id=user_id,
        name=name,
        memberships=frozenset(Membership(r, o, lv) for r, o, lv in memberships),
    )


def load_matters(*paths: Path) -> dict[str, LoadedMatter]:
    """Load matter files together with the demo roles.yaml; fail loudly on any problem."""
    result = load_catalog([ROLES_YAML, *paths])
    assert result.ok, "\n".join(str(p) for p in result.problems)
    return {m.spec.code: m for m in result.matters}


# A valid application for road_occupation, as a form would send it (shared with the golden
# scripts, which submit it by name): form data and attached materials.
_APPLICATIONS = yaml.safe_load((GOLDEN / "applications.yaml").read_text(encoding="utf-8"))
ROAD_APPLICATION: dict = _APPLICATIONS["road_occupation"]["data"]
ROAD_MATERIALS: dict = _APPLICATIONS["road_occupation"]["materials"]


@pytest.fixture(scope="session")
def cal() -> WorkCalendar:
    return WorkCalendar.default()


@pytest.fixture(scope="session")
def road() -> LoadedMatter:
    return load_matters(ROAD_YAML)["road_occupation"]


def event_record(draft: EventDraft, at: datetime, case_id: int = 1) -> dict:
    """The signed body of one event, shaped as the service layer stores it."""
    return {
        "case": case_id,
        "kind": draft.kind,
        "action": draft.action,
        "from": draft.from_state or "",
        "to": draft.to_state,
        "actor": draft.actor_id,
        "comment": draft.comment,
        "payload": dict(draft.payload),
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
    }


COLUMNS = ("case", "seq", "kind", "action", "from", "to", "actor", "at")


def chain_records(records: list[dict]) -> list[StoredEvent]:
    """Number and hash-chain event records; the queryable columns are copies of the body's."""
    stored, prev = [], GENESIS
    for seq, record in enumerate(records, 1):
        record = {**record, "seq": seq}
        body = canonical(record)
        digest = link(prev, body)
        stored.append(StoredEvent(seq, body, prev, digest, {k: record[k] for k in COLUMNS}))
        prev = digest
    return stored
