"""Personal data: masked wherever it is listed, revealed one field at a time, every reveal
logged with who and when."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tongban.engine import validators as v
from tongban.engine.schema import FieldSpec, MatterSpec
from tongban.services import catalog
from tongban.services.cases import get_case
from tongban.services.context import actor_for
from tongban.services.errors import Forbidden, NotFound
from tongban.store.models import Case, RevealLog


def mask(f: FieldSpec, value: Any) -> str:
    if value in (None, ""):
        return ""
    if f.type == "id_card":
        return v.mask_id_card(value)
    if f.type == "phone":
        return v.mask_phone(value)
    text = str(value)
    return text[:1] + "*" * min(len(text) - 1, 6) if len(text) > 1 else "*"


def display(f: FieldSpec, value: Any) -> str:
    """A value as a person reads it."""
    if value is None:
        return ""
    if f.type == "commitment":
        return "已承诺：" + str(value.get("text", "")) if isinstance(value, dict) else ""
    if f.type == "boolean":
        return "是" if value else "否"
    if f.type == "multichoice":
        return "、".join(value)
    if f.type == "geo" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lng')}"
    if f.type == "number" and f.unit:
        return f"{value} {f.unit}"
    return str(value)


def rows(spec: MatterSpec, data: dict, *, reveal_all: bool) -> list[dict]:
    """Label/value rows for a case page; personal fields masked unless reveal_all."""
    out = []
    for f in spec.fields:
        value = data.get(f.key)
        if f.type == "table":
            for i, row in enumerate(value or [], 1):
                for sub in f.fields:
                    out.append(
                        _row(
                            sub,
                            row.get(sub.key),
                            f"{f.key}.{i - 1}.{sub.key}",
                            f"{f.label}{i} {sub.label}",
                            reveal_all,
                        )
                    )
            continue
        out.append(_row(f, value, f.key, f.label, reveal_all))
    return out


def _row(f: FieldSpec, value: Any, path: str, label: str, reveal_all: bool) -> dict:
    masked = f.is_personal and not reveal_all and value not in (None, "")
    return {
        "path": path,
        "label": label,
        "value": mask(f, value) if masked else display(f, value),
        "masked": masked,
    }


def _lookup(spec: MatterSpec, data: dict, path: str) -> tuple[FieldSpec, Any]:
    parts = path.split(".")
    f = spec.field(parts[0])
    if f is None:
        raise NotFound("没有这个字段")
    if len(parts) == 1:
        return f, data.get(f.key)
    if f.type != "table" or len(parts) != 3 or not parts[1].isdigit():
        raise NotFound("没有这个字段")
    sub = next((s for s in f.fields if s.key == parts[2]), None)
    table = data.get(f.key) or []
    idx = int(parts[1])
    if sub is None or idx >= len(table):
        raise NotFound("没有这个字段")
    return sub, table[idx].get(sub.key)


def reveal(case_id: int, user, path: str, ip: str | None = None) -> str:
    """The unmasked value of one personal field, for staff in the case's jurisdiction."""
    case: Case = get_case(case_id, user)
    actor = actor_for(user)
    if not actor.memberships:
        raise Forbidden("只有工作人员可以查看完整信息")
    spec = catalog.spec_of(case.matter)
    f, value = _lookup(spec, case.data, path)
    with transaction.atomic():
        RevealLog.objects.create(user=user, case=case, field=path, ip=ip)
    return display(f, value)
