"""The system under test for bench/load.py and bench/crash.py: a PostgreSQL database (on the
shared cluster, or on a private throwaway cluster that may be stopped without disturbing
anyone), Django set up in the bench process for setup and checks, gunicorn (`tongban serve`,
2 sync workers) and `tongban worker` as subprocesses in their own process groups, and a
cleanup that runs on exit, on Ctrl-C and on errors."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _server
from _common import drop_create
from _server import free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-load-only-key-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
WORKERS = 2


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- cleanup ---------------------------------------------------------------------------------

_CLEANUPS: list = []


def on_exit(fn) -> None:
    """Run fn at exit (last registered, first run), also after Ctrl-C or SIGTERM."""
    _CLEANUPS.append(fn)


def _run_cleanups() -> None:
    while _CLEANUPS:
        fn = _CLEANUPS.pop()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - cleanup must go on
            log(f"cleanup: {type(exc).__name__}: {exc}")


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds the main thread; atexit runs the cleanups


atexit.register(_run_cleanups)
signal.signal(signal.SIGTERM, _on_signal)


# -- PostgreSQL ------------------------------------------------------------------------------


class PrivateCluster:
    """A throwaway PostgreSQL 15 cluster on a free port (initdb as the postgres user, data in a
    temp folder): bench/crash.py stops it without touching the cluster others use."""

    def __init__(self, synchronous_commit: str = "on"):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tongban-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.logfile = self.dir / "server.log"
        self._as_pg([PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-E", "UTF8", "--no-sync"])
        conf = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '"
            f"{self.dir}'\nsynchronous_commit = {synchronous_commit}\nfsync = on\n"
            "max_connections = 50\nshared_buffers = 128MB\n"
        )
        with (self.data / "postgresql.conf").open("a") as f:
            f.write(conf)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/tongban_crash"
        on_exit(self.destroy)
        self.start()

    def _as_pg(self, cmd: list, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, cmd)],
            check=check,
            capture_output=True,
            text=True,
        )

    def start(self) -> None:
        self._as_pg([PG_BIN / "pg_ctl", "-D", self.data, "-l", self.logfile, "-w", "start"])

    def stop(self) -> None:
        self._as_pg([PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"], check=False)

    def destroy(self) -> None:
        self._as_pg([PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class SharedCluster:
    """The machine's cluster (pg_ctlcluster 15 main): stopping it stops everyone's tests."""

    def __init__(self):
        # its own database name per run: two runs (or a run and the test suite) never clash
        self.url = f"postgres://postgres@127.0.0.1:5432/tongban_crash_{os.getpid()}"

    def start(self) -> None:
        subprocess.run(["pg_ctlcluster", "15", "main", "start"], check=True)

    def stop(self) -> None:
        subprocess.run(["pg_ctlcluster", "15", "main", "stop", "-m", "fast"], check=True)


def pg_params(url: str) -> dict:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    host = params.get("host") or "127.0.0.1"
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"the database must be on this machine (loopback), not {host}")
    if params.get("dbname") in {None, "", "postgres", "template0", "template1"}:
        raise SystemExit(f"give the bench its own database, not {params.get('dbname')!r}")
    return params


def recreate_database(url: str, drop_only: bool = False) -> None:
    params = pg_params(url)
    name = params.pop("dbname")
    drop_create(params, name, drop_only=drop_only)


def commit_floor(url: str, seconds: float) -> dict:
    """The database's own floor: one connection, one small INSERT per transaction (COMMIT
    each), with the server's synchronous_commit — what no request can beat."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
        conn.execute("CREATE TEMP TABLE floor_probe (id bigserial primary key, v text)")
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            with conn.transaction():
                conn.execute("INSERT INTO floor_probe (v) VALUES (%s)", ("x" * 40,))
            n += 1
        elapsed = time.perf_counter() - t0
    return {"tx_per_s": round(n / elapsed, 1), "transactions": n, "synchronous_commit": sync}


# -- Django in this process ------------------------------------------------------------------


def environment(url: str, tmp: Path) -> dict:
    """The environment of this process's Django and of the subprocesses (_server.environment)."""
    return _server.environment(url, tmp, BENCH_SECRET)


def setup_django(with_demo_cases: bool = True) -> dict:
    t0, *_, t3 = _server.setup_django(with_demo_cases)
    return {"setup_s": round(t3 - t0, 1)}


# -- subprocesses ----------------------------------------------------------------------------


class Proc:
    """A subprocess in its own process group, its output in a log file."""

    def __init__(self, name: str, cmd: list[str], env: dict, tmp: Path):
        self.name, self.cmd, self.env = name, cmd, {**os.environ, **env}
        self.log_path = tmp / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        on_exit(self.kill)

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.proc = _server.start_group(self.cmd, self.env, out)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        return _server.children(self.pid)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group (the master and its workers), then reap."""
        if self.proc is not None:
            _server.kill_group(self.proc, sig, 10)

    def stop(self) -> None:
        """Gracefully (SIGTERM, 15 s), then whatever is left with SIGKILL."""
        if self.proc is not None:
            _server.stop_group(self.proc, 10)

    def tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""


def web(env: dict, tmp: Path, port: int) -> Proc:
    return Proc("gunicorn", _server.serve_cmd(port, WORKERS), env, tmp)


def worker(env: dict, tmp: Path) -> Proc:
    return Proc("worker", [sys.executable, "-m", "tongban", "worker", "--interval", "1"], env, tmp)


def wait_http(port: int, proc: Proc, timeout: float = 90.0) -> float:
    return _server.wait_healthz(
        port,
        name=proc.name,
        exited=lambda: None if proc.alive() else f"{proc.name} exited:\n{proc.tail()}",
        tail=proc.tail,
        timeout=timeout,
    )


def server_cpu(proc: Proc) -> float:
    """User + system CPU seconds of the gunicorn workers (children of the master)."""
    return _server.children_cpu(proc.pid)
