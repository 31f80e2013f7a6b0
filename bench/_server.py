"""What bench/web.py and bench/load.py (via _load_stack) share about the system under test:
the environment of the bench's Django and of its subprocesses, Django set up in the bench
process, and gunicorn (`tongban serve`) in its own process group — started, waited for on
/healthz, its workers' CPU read from /proc, stopped."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- Django in this process ------------------------------------------------------------------


def environment(url: str, tmp: Path, secret: str) -> dict:
    """The environment of this process's Django and of the subprocesses: the bench database,
    a throwaway var/ folder, production mode with a bench key and a throwaway signing key."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tongban.documents.signing import generate  # what `tongban cert keygen` prints

    private, _public = generate()
    env = {
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_DATABASE_URL": url,
        "TONGBAN_VAR": str(tmp),
        "TONGBAN_SECRET_KEY": secret,
        "TONGBAN_DEBUG": "0",  # DEBUG keeps every query in memory: never in a benchmark
        "TONGBAN_DEMO": "0",
        "TONGBAN_CERT_KEYS": f"bench:{private}",
        "TONGBAN_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    os.environ.pop("TONGBAN_CERT_PUBLIC_KEYS", None)
    return env


def setup_django(with_demo_cases: bool) -> tuple[float, float, float, float]:
    """django.setup(), migrate, load the catalog, build the demo world; returns the
    perf_counter at the start and after migrate, catalog and demo."""
    import django

    t0 = time.perf_counter()
    django.setup()
    from django.core.management import call_command

    from tongban.services import catalog, demo

    call_command("migrate", verbosity=0, interactive=False)
    t1 = time.perf_counter()
    report = catalog.load([ROOT / "catalog"])
    if not report.ok:
        raise SystemExit("the catalog does not load:\n" + "\n".join(map(str, report.problems)))
    t2 = time.perf_counter()
    demo.build(with_cases=with_demo_cases)
    return t0, t1, t2, time.perf_counter()


# -- gunicorn --------------------------------------------------------------------------------


def serve_cmd(port: int, workers: int) -> list[str]:
    cmd = [sys.executable, "-m", "tongban", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [*cmd, "--workers", str(workers)]


def start_group(cmd: list[str], env: dict, out) -> subprocess.Popen:
    """cmd in its own process group (so stop_group can end its children too), output to out."""
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_healthz(
    port: int,
    *,
    name: str,
    exited: Callable[[], str | None],
    tail: Callable[[], str],
    timeout: float,
) -> float:
    """Seconds until GET /healthz answers 200; SystemExit(exited()) if the server died."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if (why := exited()) is not None:
            raise SystemExit(why)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{name} did not answer /healthz within {timeout:.0f} s:\n{tail()}")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def children_cpu(pid: int) -> float:
    """User + system CPU seconds of the children of pid (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for child in children(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def kill_group(proc: subprocess.Popen, sig: int, wait: float) -> None:
    """Signal the whole group (the master and its workers), then reap."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=wait)


def stop_group(proc: subprocess.Popen, kill_wait: float) -> None:
    """Gracefully (SIGTERM: workers finish their request; 15 s), then SIGKILL to the group,
    whatever happened to the master."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    kill_group(proc, signal.SIGKILL, kill_wait)
