"""Lean SQL for the case engine's hot path: one round trip per statement and none of the
ORM's per-query set-up, which costs more than the database work itself for one small row.

Values are adapted by the model fields (`get_db_prep_save`), so JSON, datetimes and
booleans are stored exactly as the ORM would store them; reading goes through
`Model.objects.raw`, which applies the same converters as a normal query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from django.db import connection, models


@cache
def _columns(model: type[models.Model]) -> tuple[tuple[str, str, models.Field], ...]:
    """(attribute name, column, field) for every concrete field except the primary key."""
    return tuple((f.attname, f.column, f) for f in model._meta.concrete_fields if not f.primary_key)


@cache
def _select_sql(model: type[models.Model]) -> str:
    q = connection.ops.quote_name
    cols = ", ".join(q(f.column) for f in model._meta.concrete_fields)
    return f"SELECT {cols} FROM {q(model._meta.db_table)} WHERE {q(model._meta.pk.column)} = %s"


def load(model: type[models.Model], pk: int) -> models.Model | None:
    rows = list(model.objects.raw(_select_sql(model), [pk]))
    return rows[0] if rows else None


_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
    models.ForeignKey,
)


@cache
def _needs_prep(field: models.Field) -> bool:
    # Text, numbers, booleans and foreign keys go to both drivers as they are; JSON,
    # dates, UUIDs and the rest are adapted by their field.
    return not isinstance(field, _PLAIN) or isinstance(field, models.JSONField)


def _prep(field: models.Field, value: Any) -> Any:
    if value is None or not _needs_prep(field):
        return value
    return field.get_db_prep_save(value, connection)


def insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """INSERT the rows in one statement (their primary keys are not read back)."""
    if not objects:
        return
    q = connection.ops.quote_name
    cols = [c for c in _columns(model) if not isinstance(c[2], models.AutoField)]
    for obj in objects:
        for attname, _, field in cols:
            if getattr(obj, attname, None) is None and field.has_default():
                setattr(obj, attname, field.get_default())
    row = "(" + ", ".join(["%s"] * len(cols)) + ")"
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(c) for _, c, _ in cols)}) "
        f"VALUES {', '.join([row] * len(objects))}"
    )
    params = [_prep(f, getattr(obj, a)) for obj in objects for a, _, f in cols]
    with connection.cursor() as cur:
        cur.execute(sql, params)


def update_if_version(
    model: type[models.Model], pk: int, version: int, values: Mapping[str, Any]
) -> bool:
    """UPDATE the given attributes where the row still has `version`; False if it did not."""
    q = connection.ops.quote_name
    by_name = {a: (c, f) for a, c, f in _columns(model)}
    sets, params = [], []
    for attname, value in values.items():
        column, field = by_name[attname]
        sets.append(f"{q(column)} = %s")
        params.append(_prep(field, value))
    sql = (
        f"UPDATE {q(model._meta.db_table)} SET {', '.join(sets)} "
        f"WHERE {q(model._meta.pk.column)} = %s AND {q('version')} = %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*params, pk, version])
        return cur.rowcount == 1


def changed(before: Mapping[str, Any], after: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in after if before.get(k, object()) != v}
