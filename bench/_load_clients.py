"""Simulated people for bench/load.py and bench/crash.py, each a closed-loop thread on one
keep-alive HTTP connection (stdlib http.client):

- residents on the API: file a freight return declaration (POST /api/cases), a 诉求
  (POST /api/requests), or look at one of their cases;
- residents on the portal: logged in with a session, open the form, post it with the CSRF
  token, land on their case, open 我的办件;
- reviewers (one per district): read the worklist through the API and approve — each
  approval issues a numbered certificate;
- office staff: the workbench and the 诉求 dispatch queue (HTML), with think time;
- supervisors: the supervision and 诉求 dashboards, with think time.

Every submission carries a marker in its data (the cargo field / the request text) and an
idempotency key; with `retry` set (bench/crash.py) a client retries the same submission until
it is acknowledged, as a real client would, and records (kind, marker) on acknowledgement.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from _load_stack import log

PASSWORD = "tongban-demo-2026"
TIMEOUT = 30.0
SHOW_ERRORS = 5
FREIGHT = "freight_return"
REVIEWERS = {"320507": "freight_reviewer_xiangcheng", "320508": "freight_reviewer_gusu"}


class Http:
    """One connection with its cookies; a status of 0 means no response."""

    def __init__(self, port: int, token: str | None = None):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        self.cookies: dict[str, str] = {}

    def call(self, method, path, *, body=None, form=None, ctype=None, accept="application/json"):
        headers = {"Accept": accept}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if form is not None:
            body, ctype = urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif body is not None and not isinstance(body, bytes):
            body, ctype = json.dumps(body, ensure_ascii=False).encode(), "application/json"
        if ctype:
            headers["Content-Type"] = ctype
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
            for raw in resp.headers.get_all("Set-Cookie") or []:
                for k, morsel in SimpleCookie(raw).items():
                    self.cookies[k] = morsel.value
            if resp.will_close:
                self.conn.close()
            return resp.status, resp.headers, data
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            return 0, {}, f"{type(exc).__name__}: {exc}".encode()

    def login(self, username: str) -> bool:
        self.call("GET", "/accounts/login/", accept="text/html")
        form = {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
        }
        status, _, _ = self.call("POST", "/accounts/login/", form=form, accept="text/html")
        return status == 302

    def close(self) -> None:
        self.conn.close()


class Recorder:
    """Every request: (endpoint, start, seconds, status); a few error bodies per endpoint;
    the acknowledged submissions (kind, marker, case id)."""

    def __init__(self):
        self.rows: list[tuple[str, float, float, int]] = []
        self.errors: dict[str, list[str]] = {}
        self.acks: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()

    def add(self, endpoint: str, start: float, status: int, body: bytes, ok=(200, 399)) -> None:
        self.rows.append((endpoint, start, time.perf_counter() - start, status))
        if not ok[0] <= status <= ok[1]:
            with self.lock:
                seen = self.errors.setdefault(endpoint, [])
                if len(seen) < SHOW_ERRORS:
                    seen.append(
                        f"{status or 'no response'}: {body[:240].decode('utf-8', 'replace')}"
                    )


@dataclass
class World:
    port: int
    tokens: dict[str, str]  # username → API token
    communities: list[str]
    rec: Recorder
    stop: threading.Event
    retry: bool = False  # crash mode: retry a submission until acknowledged
    outage: threading.Event = field(default_factory=threading.Event)  # set while DB is down


def _pause(w: World, seconds: float) -> None:
    w.stop.wait(seconds)


def freight_data(rng: random.Random, marker: str) -> dict:
    start = datetime.now().replace(second=0, microsecond=0) + timedelta(hours=rng.randrange(2, 72))
    return {
        "driver_name": rng.choice(["王建国", "李师傅", "陈强", "周海波"]),
        "driver_id": "11010519491231002X",
        "driver_phone": f"139{rng.randrange(10**8):08d}",
        "plate_number": f"苏E{rng.randrange(10**5):05d}",
        "origin": rng.choice(["上海市浦东新区", "嘉兴市南湖区", "无锡市新吴区"]),
        "destination": "苏州市相城区阳澄湖镇",
        "cargo": f"冷链蔬菜 {marker}",
        "return_from": start.strftime("%Y-%m-%d %H:%M"),
        "return_to": (start + timedelta(hours=rng.randrange(2, 12))).strftime("%Y-%m-%d %H:%M"),
        "return_commitment": True,
    }


def _submit(w: World, endpoint: str, kind: str, marker: str, once) -> int | None:
    """Send one submission (once() → status, data, case id); in crash mode retry the same
    one (same idempotency key) until it is acknowledged or the run ends."""
    backoff = 0.2
    while True:
        t = time.perf_counter()
        status, data, case_id = once()
        w.rec.add(endpoint, t, status, data)
        if 200 <= status < 400 and case_id:
            with w.rec.lock:
                w.rec.acks.append((kind, marker, case_id))
            return case_id
        if not w.retry or w.stop.is_set() or (400 <= status < 500 and status != 429):
            return None
        _pause(w, backoff)
        backoff = min(backoff * 2, 2.0)


def resident_api(w: World, seed: int, users: list[str]) -> None:
    rng = random.Random(seed)
    clients = {u: Http(w.port, w.tokens[u]) for u in users}
    mine: list[tuple[str, int]] = []  # (user, case id) acknowledged to this client
    while not w.stop.is_set():
        user = rng.choice(users)
        c = clients[user]
        roll = rng.random()
        marker = f"M{uuid.uuid4().hex[:16]}"
        key = uuid.uuid4().hex
        if roll < 0.5:
            body = {
                "matter": FREIGHT,
                "data": freight_data(rng, marker),
                "org": rng.choice(w.communities),
                "idempotency_key": key,
            }

            def once(c=c, body=body):
                status, _, data = c.call("POST", "/api/cases", body=body)
                return status, data, _case_id(status, data)

            case_id = _submit(w, "POST /api/cases", "case", marker, once)
        elif roll < 0.8:
            body = {
                "data": {
                    "request_type": rng.choice(["求助", "投诉", "咨询", "建议"]),
                    "content": f"小区门口路灯坏了一个多月，晚上出行不安全，请尽快修理。{marker}",
                    "address": f"阳澄湖镇湘城大街 {rng.randrange(1, 400)} 号",
                },
                "org": rng.choice(w.communities),
                "idempotency_key": key,
            }

            def once(c=c, body=body):
                status, _, data = c.call("POST", "/api/requests", body=body)
                return status, data, _case_id(status, data)

            case_id = _submit(w, "POST /api/requests", "request", marker, once)
        elif mine:
            owner, case_id = rng.choice(mine[-50:])
            t = time.perf_counter()
            status, _, data = clients[owner].call("GET", f"/api/cases/{case_id}")
            w.rec.add("GET /api/cases/{id}", t, status, data)
            continue
        else:
            continue
        if case_id:
            mine.append((user, case_id))
    for c in clients.values():
        c.close()


def _case_id(status: int, data: bytes) -> int | None:
    if status in (200, 201):
        try:
            return int(json.loads(data)["id"])
        except (ValueError, KeyError, TypeError):
            return None
    return None


_MY_CASE = re.compile(r"/my/cases/(\d+)/")


def resident_form(w: World, seed: int, username: str) -> None:
    rng = random.Random(seed)
    c = Http(w.port)
    while not w.stop.is_set() and not c.login(username):
        _pause(w, 1.0)  # the server or the database may be down (crash mode)
    while not w.stop.is_set():
        t = time.perf_counter()
        status, _, data = c.call("GET", "/matters/freight_return/apply/", accept="text/html")
        w.rec.add("GET form", t, status, data)
        marker = f"M{uuid.uuid4().hex[:16]}"
        fields = freight_data(rng, marker)
        form = {f"f-{k}": ("on" if v is True else v) for k, v in fields.items()}
        form.update(
            csrfmiddlewaretoken=c.cookies.get("csrftoken", ""),
            idempotency_key=uuid.uuid4().hex,
            org=rng.choice(w.communities),
        )

        def once(form=form):
            status, headers, data = c.call(
                "POST", "/matters/freight_return/apply/", form=form, accept="text/html"
            )
            m = _MY_CASE.search(headers.get("Location", "") if headers else "")
            if status == 302 and "/accounts/login/" in (headers.get("Location") or ""):
                c.login(username)  # session lost (never with DB sessions, but be safe)
            return status, data, int(m.group(1)) if (status == 302 and m) else None

        _submit(w, "POST form", "form", marker, once)
        t = time.perf_counter()
        status, _, data = c.call("GET", "/my/", accept="text/html")
        w.rec.add("GET /my/", t, status, data)
    c.close()


def reviewer(w: World, username: str) -> None:
    """Approve freight declarations from the worklist, oldest deadline first."""
    c = Http(w.port, w.tokens[username])
    query = urlencode({"matter": FREIGHT, "state": "review", "limit": 20})
    while not w.stop.is_set():
        t = time.perf_counter()
        status, _, data = c.call("GET", f"/api/worklist?{query}")
        w.rec.add("GET /api/worklist", t, status, data)
        items = json.loads(data)["items"] if status == 200 else []
        if not items:
            _pause(w, 0.5)
            continue
        for item in items[: 5 if len(items) > 5 else len(items)]:
            if w.stop.is_set():
                break
            t = time.perf_counter()
            path = f"/api/cases/{item['id']}/actions/approve"
            status, _, data = c.call("POST", path, body={"comment": "核验无误"})
            # 409: already approved (a retry whose first answer was lost in a crash)
            w.rec.add("POST approve", t, status, data, ok=(200, 200 if not w.retry else 409))
    c.close()


def page_reader(w: World, username: str, paths: list[str], think: float, seed: int) -> None:
    rng = random.Random(seed)
    c = Http(w.port)
    while not w.stop.is_set() and not c.login(username):
        _pause(w, 1.0)
    while not w.stop.is_set():
        path = rng.choice(paths)
        t = time.perf_counter()
        status, _, data = c.call("GET", path, accept="text/html")
        w.rec.add(f"GET {path}", t, status, data)
        _pause(w, think * rng.uniform(0.5, 1.5))
    c.close()


def threads(w: World, scale: int = 1) -> list[threading.Thread]:
    """The mix: per unit of scale, 3 API residents, 2 portal residents, 2 reviewers,
    1 office worker and 1 supervisor (the last two with think time)."""
    residents = ["zhangsan", "lisi", "ent_demo"]
    out = []
    for s in range(scale):
        for i in range(3):
            out.append((resident_api, (w, 100 * s + i, residents)))
        for i, who in enumerate(("zhangsan", "lisi")):
            out.append((resident_form, (w, 200 + 100 * s + i, who)))
        for who in REVIEWERS.values():
            out.append((reviewer, (w, who)))
        out.append(
            (page_reader, (w, "dispatcher_xiangcheng", ["/work/", "/requests/queue/"], 0.5, s))
        )
        out.append(
            (
                page_reader,
                (w, "supervisor_xiangcheng", ["/supervise/", "/requests/dashboard/"], 1.0, s),
            )
        )
    return [threading.Thread(target=f, args=a, daemon=True) for f, a in out]


# -- figures ---------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]  # nearest rank


def summarise(rec: Recorder, t_from: float, t_to: float, ok=lambda s: 200 <= s < 400) -> dict:
    """Per endpoint, the requests that started inside the window."""
    seconds = max(t_to - t_from, 1e-9)
    by: dict[str, list[tuple[float, int]]] = {}
    for endpoint, start, dur, status in list(rec.rows):
        if t_from <= start <= t_to:
            by.setdefault(endpoint, []).append((dur, status))
    endpoints = {}
    for name, items in sorted(by.items()):
        lat = sorted(d * 1e3 for d, _ in items)
        endpoints[name] = {
            "requests": len(items),
            "errors": sum(1 for _, s in items if not ok(s)),
            "per_s": round(len(items) / seconds, 2),
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(lat[-1], 1),
        }
    total = sum(e["requests"] for e in endpoints.values())
    return {
        "seconds": round(seconds, 1),
        "requests": total,
        "per_s": round(total / seconds, 1),
        "errors": sum(e["errors"] for e in endpoints.values()),
        "endpoints": endpoints,
    }


def fmt(name: str, e: dict) -> str:
    return (
        f"  {name:28s} {e['per_s']:7.2f}/s  p50 {e['p50_ms']:7.1f}  p95 {e['p95_ms']:7.1f}"
        f"  p99 {e['p99_ms']:7.1f} ms  ({e['requests']} req, {e['errors']} errors)"
    )


__all__ = ["Http", "Recorder", "World", "threads", "summarise", "fmt", "log"]
