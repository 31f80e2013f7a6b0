"""Run test code in several fresh processes against the test database.

The processes are spawned, not forked: a pytest-xdist worker (and a session that has used
Playwright) keeps threads, and a fork taken while one of them holds a lock can hang the
child forever. A spawned child imports Django afresh and is pointed at the test database.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections


def _point_at(database: dict) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings_test")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections as child_connections

    settings.DATABASES["default"]["NAME"] = database["NAME"]
    child_connections["default"].settings_dict["NAME"] = database["NAME"]


def run_in_processes(fn: Callable[..., Any], argsets: Iterable[tuple]) -> list:
    """fn(*args) for each args in its own spawned process (one pool); the results in order.

    fn must be a module-level function of an importable module and should close its
    connections before returning.
    """
    argsets = list(argsets)
    database = dict(connections["default"].settings_dict)
    connections.close_all()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(argsets), initializer=_point_at, initargs=(database,)) as pool:
        return pool.starmap(fn, argsets)
