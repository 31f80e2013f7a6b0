"""Registry reading: template, export, the list and record pages, reveal, lookup.

Split from tongban.services.registry (which re-exports every name); see its docstring."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Q

from tongban.engine import validators as v
from tongban.engine.validators import ValidationError
from tongban.registry import importing, templates, xlsx
from tongban.registry.kinds import ORG, Column, Kind
from tongban.services.errors import Invalid, NotFound
from tongban.services.registry_import import WRITE_BATCH
from tongban.services.registry_scope import (
    J_COLUMNS,
    Scope,
    kind_of,
    kinds,
    records,
    scope_of,
)
from tongban.store.models import Org, RevealLog

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
