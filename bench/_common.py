"""Helpers the bench scripts share that are not about the web server (see _server.py)."""

from __future__ import annotations


def drop_create(params: dict, name: str, *, drop_only: bool = False) -> None:
    """DROP DATABASE name (FORCE) and, unless drop_only, CREATE it again, connected to the
    server's `postgres` database with params (psycopg connection keywords, no dbname)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(**params, dbname="postgres", autocommit=True, connect_timeout=5) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_create_or_why(params: dict, name: str, *, drop_only: bool = False) -> str | None:
    """drop_create; if PostgreSQL is unreachable, return why (its first line) instead."""
    import psycopg

    try:
        drop_create(params, name, drop_only=drop_only)
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None
