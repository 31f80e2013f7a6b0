"""Load catalog files into versioned rows, and hand out parsed specs to the engine."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from tongban.engine.errors import Problem
from tongban.engine.loader import load_catalog
from tongban.engine.schema import MatterSpec
from tongban.engine.schema_bundle import BundleSpec
from tongban.services.errors import NotFound
from tongban.store.models import MatterVersion


@dataclass
class LoadReport:
    problems: list[Problem] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)
    unchanged: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(paths: Iterable[str | Path]) -> list[Problem]:
    return load_catalog(paths).problems


def load(paths: Iterable[str | Path]) -> LoadReport:
    """Load every matter under `paths`, all or nothing: one bad file loads none of them."""
    result = load_catalog(paths)
    report = LoadReport(problems=result.problems)
    if not result.ok:
        return report
    with transaction.atomic():
        for m in result.matters:
            spec = m.spec
            existing = MatterVersion.objects.filter(code=spec.code, digest=m.digest).first()
            if existing is not None:
                if not existing.current:
                    MatterVersion.objects.filter(code=spec.code, current=True).update(current=False)
                    existing.current = True
                    existing.save(update_fields=["current"])
                report.unchanged.append((spec.code, existing.version))
                continue
            latest = MatterVersion.objects.filter(code=spec.code).aggregate(v=Max("version"))["v"]
            MatterVersion.objects.filter(code=spec.code, current=True).update(current=False)
            row = MatterVersion.objects.create(
                code=spec.code,
                kind=getattr(spec, "kind", "matter"),
                version=(latest or 0) + 1,
                name=spec.name,
                category=spec.category,
                digest=m.digest,
                file=m.file,
                source=m.text,
                spec_json=spec.model_dump_json(by_alias=True),
            )
            report.created.append((spec.code, row.version))
    _current.clear()
    return report


@lru_cache(maxsize=512)
def _parse(version_id: int, kind: str, spec_json: str) -> MatterSpec | BundleSpec:
    model = BundleSpec if kind == "bundle" else MatterSpec
    return model.model_validate_json(spec_json)


def spec_of(version: MatterVersion) -> MatterSpec:
    """The parsed spec of a stored version (parsed once per process: versions never change)."""
    return _parse(version.pk, version.kind, version.spec_json)


@lru_cache(maxsize=512)
def _roles(version_id: int, kind: str, spec_json: str) -> frozenset[str]:
    spec = _parse(version_id, kind, spec_json)
    roles: set[str] = set()
    for st in spec.workflow.states.values():
        roles |= {st.role} if st.role else set()
        roles |= set(st.sign.roles) if st.sign else set()
        roles |= {st.escalate_to} if st.escalate_to else set()
        roles |= set(st.roles_allowed)
    for action in spec.workflow.actions.values():
        roles |= set(action.by or ())
    return frozenset(roles - {"applicant"})


def roles_of(version: MatterVersion) -> frozenset[str]:
    """Every staff role that takes part in a matter version's workflow."""
    return _roles(version.pk, version.kind, version.spec_json)


_rows: dict[int, tuple[str, str]] = {}  # version id → (kind, spec JSON); versions never change


def _row(version_id: int) -> tuple[str, str]:
    row = _rows.get(version_id)
    if row is None:
        row = tuple(MatterVersion.objects.values_list("kind", "spec_json").get(pk=version_id))
        _rows[version_id] = row
    return row


def spec_for(case) -> MatterSpec:
    """The spec a case runs on, by its version id (no query once seen in this process)."""
    kind, spec_json = _row(case.matter_id)
    return _parse(case.matter_id, kind, spec_json)


def roles_for(case) -> frozenset[str]:
    kind, spec_json = _row(case.matter_id)
    return _roles(case.matter_id, kind, spec_json)


_current: dict[tuple[str, str], tuple[float, MatterVersion]] = {}
CURRENT_TTL = 30.0  # a newly loaded version is used by every process within this time


def current_version(code: str, kind: str = "matter") -> MatterVersion:
    now = time.monotonic()
    hit = _current.get((code, kind))
    if hit is not None and now - hit[0] < CURRENT_TTL:
        return hit[1]
    try:
        version = MatterVersion.objects.get(code=code, current=True, kind=kind)
        _current[(code, kind)] = (now, version)
        return version
    except MatterVersion.DoesNotExist:
        what = "一件事" if kind == "bundle" else "事项"
        raise NotFound(f"{what} '{code}' 不存在或未加载（先运行 tongban catalog load）") from None


def current_versions(kind: str = "matter") -> list[MatterVersion]:
    qs = MatterVersion.objects.filter(current=True, kind=kind)
    return list(qs.order_by("category", "code"))


def current_specs() -> dict[str, MatterSpec]:
    """Every current matter spec by code (bundles are merged from these)."""
    return {v.code: spec_of(v) for v in current_versions()}


@lru_cache(maxsize=1)
def role_labels() -> dict[str, str]:
    """Role code → label from the deployment's roles.yaml (for display only)."""
    from django.conf import settings

    from tongban.engine.errors import CatalogError
    from tongban.engine.loader import ROLES_FILE, parse_roles

    path = Path(settings.CATALOG_DIR) / ROLES_FILE
    labels = {"applicant": "申请人", "system": "系统"}
    with contextlib.suppress(OSError, CatalogError):  # labels fall back to the codes
        roles = parse_roles(path.read_text("utf-8"), str(path)).roles
        labels.update({k: r.label for k, r in roles.items()})
    return labels
