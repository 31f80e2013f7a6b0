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


def child_env(vendor: str, tmp, pg_url: str, secret: str) -> dict[str, str]:
    """The environment of a bench's per-database child process: production settings without
    DEBUG (it keeps every query in memory) or demo mode, a throwaway secret, and its own
    TONGBAN_VAR and database (a fresh SQLite file under tmp, or pg_url)."""
    import os

    env = dict(os.environ)
    env.pop("TONGBAN_DEBUG", None)
    env.pop("TONGBAN_DEMO", None)
    env["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    env.setdefault("TONGBAN_SECRET_KEY", secret)
    env["TONGBAN_VAR"] = str(tmp / vendor)
    (tmp / vendor).mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        env["TONGBAN_DATABASE_URL"] = f"sqlite:///{tmp / vendor / 'bench.sqlite3'}"
    else:
        env["TONGBAN_DATABASE_URL"] = pg_url
    return env
