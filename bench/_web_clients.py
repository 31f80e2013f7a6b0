"""bench/web.py's server and clients: gunicorn started and stopped, the closed-loop
submitters and worklist pagers, and their latency statistics."""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import _server
from _web_config import MATTER, MAX_PAGES, PAGE, REQUEST_TIMEOUT, SHOW_ERRORS, WORKERS


class Server:
    """`tongban serve` (gunicorn, WORKERS sync workers) on a free loopback port."""

    def __init__(self, env: dict, tmp: Path):
        self.port = _server.free_port()
        self.log_path = tmp / "gunicorn.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        full_env = dict(os.environ)
        full_env.update(env)
        self.proc = _server.start_group(_server.serve_cmd(self.port, WORKERS), full_env, self.log)

    def wait_ready(self, timeout: float = 60.0) -> float:
        return _server.wait_healthz(
            self.port,
            name="gunicorn",
            exited=lambda: (
                None
                if self.proc.poll() is None
                else f"gunicorn exited with {self.proc.returncode}:\n{self.tail()}"
            ),
            tail=self.tail,
            timeout=timeout,
        )

    def cpu_seconds(self) -> float:
        """User + system CPU time of the gunicorn workers (children of the master)."""
        return _server.children_cpu(self.proc.pid)

    def tail(self, n: int = 30) -> str:
        try:
            self.log.flush()
            lines = self.log_path.read_text("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        """SIGTERM (workers finish their request), then SIGKILL to the group after 15 s."""
        _server.stop_group(self.proc, 5)
        self.log.close()


class Client:
    """One keep-alive connection (gunicorn's sync workers close it after each response;
    http.client then reconnects on the next request)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def call(
        self,
        method: str,
        path: str,
        token: str,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.will_close:
                self.conn.close()
            return resp.status, data
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            return 0, f"{type(exc).__name__}: {exc}".encode()

    def close(self) -> None:
        self.conn.close()


def _upload(port: int, token: str, name: str, content: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, data = Client(port).call(
        "POST", "/api/uploads", token, body, f"multipart/form-data; boundary={boundary}"
    )
    if status != 201:
        raise SystemExit(f"POST /api/uploads failed: {status} {data[:300]!r}")
    return json.loads(data)


def _materials(port: int, token: str, communities: list[str]) -> dict:
    """Upload the two PDFs once; submit one case with them to prove the body is valid."""
    from tongban.services import demo

    refs = {
        "site_plan": _upload(port, token, "占道平面示意图.pdf", demo.sample_pdf("site plan")),
        "id_copy": _upload(port, token, "身份证明.pdf", demo.sample_pdf("ID copy")),
    }
    body = _submit_body(communities, refs, random.Random(0))
    status, data = Client(port).call("POST", "/api/cases", token, body, "application/json")
    if status != 201:
        raise SystemExit(f"a first submission failed: {status} {data[:500]!r}")
    return refs


class Recorder:
    def __init__(self):
        # endpoint, start, seconds, status, who (the staff user, for worklists)
        self.rows: list[tuple[str, float, float, int, str]] = []
        self.errors: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def add(
        self, endpoint: str, start: float, seconds: float, status: int, body: bytes, who: str = ""
    ) -> None:
        self.rows.append((endpoint, start, seconds, status, who))
        if not 200 <= status < 300:
            with self.lock:
                seen = self.errors.setdefault(endpoint, [])
                if len(seen) < SHOW_ERRORS:
                    seen.append(
                        f"{status or 'no response'}: {body[:300].decode('utf-8', 'replace')}"
                    )


def _submit_body(communities: list[str], refs: dict, rng: random.Random) -> bytes:
    start = date.today() + timedelta(days=rng.randrange(5, 60))
    data = {
        "applicant_name": rng.choice(["张三", "李四", "王五", "苏州阳澄湖农产品有限公司"]),
        "contact_phone": f"138{rng.randrange(10**8):08d}",
        "location": f"湘城大街 {rng.randrange(1, 400)} 号门前",
        "area": rng.randrange(1, 500),
        "purpose": rng.choice(["施工", "临时设施", "文化活动", "其他"]),
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=rng.randrange(1, 30))).isoformat(),
        "safety_commitment": True,
    }
    return json.dumps(
        {
            "matter": MATTER,
            "data": data,
            "org": rng.choice(communities),
            "materials": {k: [v] for k, v in refs.items()},
            "idempotency_key": uuid.uuid4().hex,
        },
        ensure_ascii=False,
    ).encode()


def _submitter(port, tokens, communities, refs, rec, stop, seed):
    rng = random.Random(seed)
    client = Client(port)
    clock = time.perf_counter
    i = seed
    while not stop.is_set():
        token = tokens[i % len(tokens)]
        i += 1
        body = _submit_body(communities, refs, rng)
        t = clock()
        status, data = client.call("POST", "/api/cases", token, body, "application/json")
        rec.add("submit", t, clock() - t, status, data)
    client.close()


def _pager(port, staff, rec, stop, index):
    """Page through one worklist (up to MAX_PAGES pages of 50), then the next user's."""
    client = Client(port)
    clock = time.perf_counter
    k = index
    while not stop.is_set():
        user = staff[k % len(staff)]
        k += 1
        pages = max(1, min(MAX_PAGES, math.ceil(user["todo"] / PAGE)))
        for page in range(pages):
            if stop.is_set():
                break
            query = urlencode({"limit": PAGE, "offset": page * PAGE})
            t = clock()
            status, data = client.call("GET", f"/api/worklist?{query}", user["token"])
            rec.add("worklist", t, clock() - t, status, data, user["username"])
            if status == 200 and json.loads(data).get("next_offset") is None:
                break
    client.close()


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)  # nearest rank
    return sorted_values[k]


def _summary(lat_s: list[float], errors: int, seconds: float) -> dict:
    lat = sorted(d * 1e3 for d in lat_s)
    return {
        "requests": len(lat),
        "errors": errors,
        "per_s": round(len(lat) / seconds, 1),
        "p50_ms": round(_percentile(lat, 50), 2),
        "p95_ms": round(_percentile(lat, 95), 2),
        "p99_ms": round(_percentile(lat, 99), 2),
        "max_ms": round(lat[-1], 2),
    }


def _stats(rec: Recorder, t_from: float, t_to: float) -> dict:
    """Requests that started and finished inside the measured window, per endpoint and
    (worklists) per staff user."""
    seconds = t_to - t_from
    by: dict[str, list[tuple[float, int]]] = {}
    who: dict[str, list[tuple[float, int]]] = {}
    rows = list(rec.rows)
    for endpoint, start, dur, status, user in rows:
        if t_from <= start and start + dur <= t_to:
            by.setdefault(endpoint, []).append((dur, status))
            if user:
                who.setdefault(user, []).append((dur, status))

    def summary(items):
        return _summary(
            [d for d, _ in items], sum(1 for _, s in items if not 200 <= s < 300), seconds
        )

    return {
        "seconds": round(seconds, 2),
        "requests": sum(len(v) for v in by.values()),
        "per_s": round(sum(len(v) for v in by.values()) / seconds, 1) if seconds else 0.0,
        "endpoints": {k: summary(v) for k, v in sorted(by.items())},
        "worklist_by_user": {k: summary(v) for k, v in who.items()},
        # errors of requests that never finished inside the window count too
        "errors_total": sum(1 for r in rows if not 200 <= r[3] < 300),
        "error_samples": rec.errors,
    }


def _phase(
    server, *, seconds, warmup, submitters, stagers, submit_tokens, communities, refs, staff
) -> dict:
    port = server.port
    rec = Recorder()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_submitter,
            args=(port, submit_tokens, communities, refs, rec, stop, 1000 + i),
            daemon=True,
        )
        for i in range(submitters)
    ] + [
        threading.Thread(target=_pager, args=(port, staff, rec, stop, i), daemon=True)
        for i in range(stagers)
    ]
    t0 = time.perf_counter()
    try:
        for t in threads:
            t.start()
        time.sleep(warmup)
        cpu0 = server.cpu_seconds()
        t_from = time.perf_counter()
        time.sleep(seconds)
        t_to = time.perf_counter()
        cpu1 = server.cpu_seconds()
    finally:
        stop.set()  # also when the time limit strikes: the clients stop, then cleanup runs
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT + 2)
    stuck = sum(t.is_alive() for t in threads)
    result = _stats(rec, t_from, t_to)
    result["clients"] = {"submitters": submitters, "staff": stagers}
    result["stuck_clients"] = stuck
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    # gunicorn workers' CPU per request: much less sensitive to a busy machine than latency
    result["server_cpu_ms_per_request"] = (
        round((cpu1 - cpu0) / result["requests"] * 1e3, 2) if result["requests"] else None
    )
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result
