"""tongban serve --with-worker: the web server, the case worker and the task worker start
together and stop together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> dict[int, str]:
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    rows = (line.strip().split(" ", 1) for line in out.splitlines())
    return {int(p): args for p, args in rows if "tongban" in args}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return not state.stdout.strip().startswith("Z")


def test_serve_with_worker_starts_and_stops_both_workers():
    port = _free_port()
    env = {**os.environ, "TONGBAN_DATABASE_URL": _database_url(), "TONGBAN_DEBUG": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "tongban", "serve", "--port", str(port), "--with-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        status = None
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status = r.status
                    break
            except OSError:
                time.sleep(0.1)
        assert status == 200
        children = _children(server.pid)
        assert any(c.endswith(" worker") for c in children.values()), children
        assert any(c.endswith(" db_worker") for c in children.values()), children
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        for _ in range(50):
            if not any(_alive(pid) for pid in children):
                break
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)], "a worker outlived the server"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
