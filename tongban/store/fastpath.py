"""Lean SQL for the case engine's hot path: one round trip per statement and none of the
ORM's per-query set-up, which costs more than the database work itself for one small row.

Values are adapted by the model fields (`get_db_prep_save`), so JSON, datetimes, UUIDs and
booleans are stored exactly as the ORM would store them; rows read back go through the same
converters as a normal query (`from_db_value` and the backend's own).

On PostgreSQL a step's writes — the case row (insert, or update guarded by its version), its
events, certificates and outbox messages — go to the server as ONE statement: data-modifying
CTEs that insert the other rows only if the case row was written. One statement is atomic
and, outside a transaction block, also its own transaction, so a plain step needs no BEGIN
and no COMMIT round trip. SQLite has no data-modifying CTEs; there the statements run one by
one inside the caller's transaction (in-process calls, no round trips).

Nothing here opens or commits a transaction: the service layer decides (see
`services/cases.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models


@dataclass(frozen=True)
class Rows:
    """Rows of one model to insert: attribute names and one tuple of values per row."""

    model: type[models.Model]
    columns: tuple[str, ...]
    values: Sequence[tuple]


def one_statement_writes() -> bool:
    """Can a step's writes go as one statement (data-modifying CTEs)?"""
    return connection.vendor == "postgresql"


# --- caches ----------------------------------------------------------------------------
# SQL text and per-field adapters are built once per model (and column list); adapters are
# the fields' own methods, called with this thread's connection wrapper.

_SQL: dict[tuple, str] = {}
_PREP: dict[type[models.Model], dict[str, tuple[str, Any, str]]] = {}

_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
    models.ForeignKey,
)


def _wrapper():
    return connections[DEFAULT_DB_ALIAS]  # this thread's DatabaseWrapper, not the proxy


def _adapter(field: models.Field, conn) -> Any:
    # Text, numbers, booleans and foreign keys go to both drivers as they are; JSON, dates,
    # UUIDs and the rest are adapted by their field.
    if isinstance(field, _PLAIN) and not isinstance(field, models.JSONField):
        return None
    if type(field) is models.DateTimeField and conn.vendor == "sqlite":
        tz = conn.timezone

        def aware_to_text(value, connection, _slow=field.get_db_prep_save):
            # What DateTimeField + the SQLite backend do for an aware value, minus the
            # layers: naive in the connection's time zone, as text.
            if not isinstance(value, datetime) or value.tzinfo is None:
                return _slow(value, connection)
            return str(value.astimezone(tz).replace(tzinfo=None))

        return aware_to_text
    return field.get_db_prep_save


def _preparers(model: type[models.Model]) -> dict[str, tuple[str, Any, str]]:
    """attname → (quoted column, adapter or None, cast type) for every concrete field."""
    hit = _PREP.get(model)
    if hit is None:
        conn = _wrapper()
        q = conn.ops.quote_name
        hit = {
            f.attname: (q(f.column), _adapter(f, conn), f.cast_db_type(conn))
            for f in model._meta.concrete_fields
        }
        _PREP[model] = hit
    return hit


def _params(conn, model: type[models.Model], columns: Sequence[str], row: Sequence[Any]) -> list:
    prep = _preparers(model)
    out = []
    for name, value in zip(columns, row, strict=True):
        adapt = prep[name][1]
        out.append(value if value is None or adapt is None else adapt(value, conn))
    return out


def _table(model: type[models.Model]) -> str:
    return _wrapper().ops.quote_name(model._meta.db_table)


_NATIVE: dict[str, str] = {}  # our SQL (%s placeholders) → the driver's own placeholders


def _native(sql: str, vendor: str) -> str:
    hit = _NATIVE.get(sql)
    if hit is None:
        if vendor == "sqlite":
            hit = sql.replace("%s", "?")
        else:  # $1, $2, … as PostgreSQL takes them
            parts = sql.split("%s")
            hit = parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], 1))
        hit = _NATIVE[sql] = hit.replace("%%", "%")
    return hit


def execute(sql: str, params: Sequence[Any], conn=None):
    """Run one statement and return the driver's cursor.

    When nobody watches the statements (no DEBUG query log, no execute wrapper such as
    `CaptureQueriesContext`), it goes straight to the driver's connection with the driver's
    own placeholders: Django's cursor wrapper and the per-call placeholder rewrite (in
    psycopg, a Python parse of every statement longer than 4 kB, which a step's writes are)
    cost more than the database work for one small row. On PostgreSQL the statement is
    bound and prepared on the server: the few statement shapes of a step repeat, so each
    is parsed and planned once per connection. Errors are Django's either way, and a
    transaction that must roll back refuses further statements as Django's cursor would."""
    conn = conn or _wrapper()
    if conn.queries_logged or conn.execute_wrappers:
        cur = conn.cursor()
        cur.execute(sql, params)
        return cur
    conn.validate_no_broken_transaction()
    conn.ensure_connection()
    with conn.wrap_database_errors:
        if conn.vendor == "sqlite":
            return conn.connection.execute(_native(sql, "sqlite"), params)
        cur = _raw_cursor(conn.connection)
        cur.execute(_native(sql, "postgresql"), params, prepare=settings.PG_PREPARE)
        return cur


def _raw_cursor(raw):
    from psycopg import RawCursor  # imported here: an SQLite deployment need not have it

    return RawCursor(raw)


# --- reading ------------------------------------------------------------------------------

_READ: dict[type[models.Model], tuple] = {}


def _reader(model: type[models.Model]) -> tuple:
    hit = _READ.get(model)
    if hit is None:
        conn = _wrapper()
        q = conn.ops.quote_name
        fields = model._meta.concrete_fields
        sql = (
            f"SELECT {', '.join(q(f.column) for f in fields)} FROM {_table(model)} "
            f"WHERE {q(model._meta.pk.column)} = %s"
        )
        convert = []
        for i, f in enumerate(fields):
            col = f.get_col(model._meta.db_table)
            fns = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
            if fns:
                convert.append((i, tuple(fns), col))
        hit = _READ[model] = (sql, [f.attname for f in fields], tuple(convert))
    return hit


def load(model: type[models.Model], pk: int) -> models.Model | None:
    """The row as a model instance (as `Model.objects.get` would build it), or None."""
    sql, names, convert = _reader(model)
    conn = _wrapper()
    row = execute(sql, [pk]).fetchone()
    if row is None:
        return None
    values = list(row)
    for i, fns, col in convert:
        value = values[i]
        for fn in fns:
            value = fn(value, col, conn)
        values[i] = value
    return model.from_db(conn.alias, names, values)


# --- writing ------------------------------------------------------------------------------


def _insert_sql(model: type[models.Model], columns: tuple[str, ...], n: int) -> str:
    key = ("insert", model, columns, n)
    sql = _SQL.get(key)
    if sql is None:
        prep = _preparers(model)
        cols = ", ".join(prep[c][0] for c in columns)
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = _SQL[key] = f"INSERT INTO {_table(model)} ({cols}) VALUES {', '.join([one] * n)}"
    return sql


def insert(rows: Rows) -> None:
    """INSERT the rows in one statement (their primary keys are not read back)."""
    if not rows.values:
        return
    conn = _wrapper()
    params = [p for row in rows.values for p in _params(conn, rows.model, rows.columns, row)]
    execute(_insert_sql(rows.model, rows.columns, len(rows.values)), params)


def insert_one(model: type[models.Model], values: Mapping[str, Any]) -> int:
    """INSERT one row and return its new primary key."""
    conn = _wrapper()
    names = tuple(values)
    pk = conn.ops.quote_name(model._meta.pk.column)
    sql = f"{_insert_sql(model, names, 1)} RETURNING {pk}"
    return int(execute(sql, _params(conn, model, names, tuple(values.values()))).fetchone()[0])


def _update_sql(model: type[models.Model], names: tuple[str, ...], head: bool) -> str:
    key = ("update", model, names, head)
    sql = _SQL.get(key)
    if sql is None:
        prep = _preparers(model)
        q = _wrapper().ops.quote_name
        pk = q(model._meta.pk.column)
        sets = ", ".join(f"{prep[n][0]} = %s" for n in names)
        sql = f"UPDATE {_table(model)} SET {sets} WHERE {pk} = %s AND {q('version')} = %s"
        if head:
            sql += f" RETURNING {pk}"
        _SQL[key] = sql
    return sql


def update_if_version(
    model: type[models.Model], pk: int, version: int, values: Mapping[str, Any]
) -> bool:
    """UPDATE the given attributes where the row still has `version`; False if it did not."""
    conn = _wrapper()
    names = tuple(values)
    params = _params(conn, model, names, tuple(values.values()))
    return execute(_update_sql(model, names, False), [*params, pk, version]).rowcount == 1


_SEQUENCES: dict[tuple[str, str], str] = {}


def next_pk(model: type[models.Model]) -> int:
    """Draw the next primary key from the table's sequence (PostgreSQL). The sequence's name
    is looked up once per database: pg_get_serial_sequence searches the catalogue, which
    cost the server more than drawing the number."""
    conn = _wrapper()
    key = (conn.settings_dict["NAME"], model._meta.db_table)
    name = _SEQUENCES.get(key)
    if name is None:
        sql = "SELECT pg_get_serial_sequence(%s, %s)"
        row = execute(sql, [model._meta.db_table, model._meta.pk.column]).fetchone()
        name = _SEQUENCES[key] = row[0]
    return int(execute("SELECT nextval(%s::regclass)", [name]).fetchone()[0])


def _cte_inserts(conn, head: str, rows: Sequence[Rows]) -> tuple[list[str], list]:
    """`iN AS (INSERT … SELECT v.* FROM head, (VALUES …) v)` for each Rows: inserted only
    if `head` returned a row. Every value is cast to its column's type (VALUES in a
    sub-select does not take the types of the target columns)."""
    parts, params = [], []
    for n, r in enumerate(rows):
        if not r.values:
            continue
        key = ("cte", n, head, r.model, r.columns, len(r.values))
        sql = _SQL.get(key)
        if sql is None:
            prep = _preparers(r.model)
            cols = ", ".join(prep[c][0] for c in r.columns)
            one = "(" + ", ".join(f"%s::{prep[c][2]}" for c in r.columns) + ")"
            names = ", ".join(f"c{i}" for i in range(len(r.columns)))
            sql = _SQL[key] = (
                f"i{n} AS (INSERT INTO {_table(r.model)} ({cols}) SELECT v.* FROM {head}, "
                f"(VALUES {', '.join([one] * len(r.values))}) AS v({names}))"
            )
        parts.append(sql)
        params += [p for row in r.values for p in _params(conn, r.model, r.columns, row)]
    return parts, params


def insert_with(
    model: type[models.Model], pk: int, values: Mapping[str, Any], rows: Sequence[Rows]
) -> None:
    """PostgreSQL, one statement: INSERT the row with primary key `pk` and the rows that go
    with it."""
    conn = _wrapper()
    names = (model._meta.pk.attname, *values)
    pk_col = conn.ops.quote_name(model._meta.pk.column)
    head = f"h AS ({_insert_sql(model, names, 1)} RETURNING {pk_col})"
    parts, params = _cte_inserts(conn, "h", rows)
    sql = f"WITH {', '.join([head, *parts])} SELECT 1 FROM h"
    execute(sql, [*_params(conn, model, names, (pk, *values.values())), *params])


def update_with(
    model: type[models.Model],
    pk: int,
    version: int,
    values: Mapping[str, Any],
    rows: Sequence[Rows],
) -> bool:
    """PostgreSQL, one statement: UPDATE the row where it still has `version`, and insert
    the rows that go with it only if it did. False (and nothing written) if it did not."""
    conn = _wrapper()
    names = tuple(values)
    head = f"h AS ({_update_sql(model, names, True)})"
    parts, params = _cte_inserts(conn, "h", rows)
    sql = f"WITH {', '.join([head, *parts])} SELECT count(*) FROM h"
    set_params = _params(conn, model, names, tuple(values.values()))
    return execute(sql, [*set_params, pk, version, *params]).fetchone()[0] == 1
