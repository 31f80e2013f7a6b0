"""Shared fixtures for the engine tests: the demo catalog, a cast of actors, fixed times.

The engine is pure Python; nothing here touches Django or a database.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tongban.engine.calendar import WorkCalendar
from tongban.engine.loader import LoadedMatter, load_catalog
from tongban.engine.workflow import Actor, Membership

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
# scripts, which submit it by name).
ROAD_APPLICATION = yaml.safe_load((GOLDEN / "applications.yaml").read_text(encoding="utf-8"))[
    "road_occupation"
]


@pytest.fixture(scope="session")
def cal() -> WorkCalendar:
    return WorkCalendar.default()


@pytest.fixture(scope="session")
def road() -> LoadedMatter:
    return load_matters(ROAD_YAML)["road_occupation"]
