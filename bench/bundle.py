#!/usr/bin/env python
"""Benchmark: what a bundle (一件事) saves the applicant — separately vs bundled.

    .venv/bin/python bench/bundle.py [--quick] [--json] [--employees N]

For each bundle of the catalog that has a scenario here (新生儿出生一件事, 企业复工一件事 with
N employees), it counts from the catalog specs and the scenario's answers

- fields: the values a person types (a table counts one per cell; separately, every
  application asks its own copy of a shared answer, and the numbers one certificate gives
  the next are typed by hand);
- materials: the uploads (separately, one per application that lists the material);
- submissions: applications filed (separately one per sub-case; bundled one);
- counters: the windows visited (separately the distinct implementing bodies of the
  matters, each `body` of the catalog; bundled one, or none online — counted as one);

and drives the real services (`cases.submit` / `bundles.submit` / `cases.act`) on a
throwaway SQLite database with a simulated clock to find the elapsed working time from the
first visit to the last certificate. Assumptions of the simulated day (the holiday
calendar's working hours): a unit acts on a case some working time after it reaches its
queue — community 0.5 h, street 1 h, district 2 h (its other work comes first), with no
limit on how many cases it handles at once (fifty passes take as long as one); each unit
takes the workflow's primary action; separately, the applicant needs a visit of 1 working
hour per counter, goes to counters one after another, and can file an application that
needs another's certificate only after that certificate exists; bundled, one visit (or
the online form) of 1 working hour, then the dependencies start by themselves.

--json prints exactly one JSON object as the last line of stdout: `bundles` holds one
entry per bundle with `separate` and `bundled` objects (`fields`, `materials`,
`submissions`, `counters`, `hours`) and the `ratios` (separate / bundled).
"""

from __future__ import annotations

import argparse
import base64
import heapq
import io
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday morning
UNIT_HOURS = {"community": 0.5, "street": 1.0, "district": 2.0, None: 1.0}
VISIT_HOURS = 1.0
NEWBORN = {
    "child_name": "张小宝",
    "child_gender": "男",
    "birth_date": "2026-02-27",
    "birth_weight": "3300",
    "hospital_name": "苏州市相城区人民医院",
    "mother_name": "李梅",
    "mother_id": "11010519491231002X",
    "mother_phone": "13812345678",
    "father_name": "张三",
    "father_id": "11010519491231002X",
    "household_address": "相城区阳澄湖镇湘城社区 8 幢",
    "delivery_type": "顺产",
    "bank_account": "6222020200112233445",
    "mother_insured": True,
}


def _setup(tmp: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    os.environ["TONGBAN_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["TONGBAN_VAR"] = str(tmp)
    os.environ.setdefault("TONGBAN_SECRET_KEY", "bench-" + base64.b64encode(os.urandom(18)).hex())
    # Certificates are signed at issue: a throwaway key, never a deployment's own.
    os.environ["TONGBAN_CERT_KEYS"] = "bench:" + base64.b64encode(os.urandom(32)).decode()
    for name in ("TONGBAN_DEBUG", "TONGBAN_DEMO", "TONGBAN_CERT_PUBLIC_KEYS"):
        os.environ.pop(name, None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from tongban.services import catalog, demo
    from tongban.services.demo_packs import resumption_bundle

    report = catalog.load([ROOT / "catalog"])
    if not report.ok:
        raise SystemExit("catalog does not load: " + "; ".join(map(str, report.problems)))
    demo.build(with_cases=False)
    resumption_bundle.ensure_accounts()


def _leaves(spec_fields, values) -> int:
    """Values a person types: one per answered field, one per cell of a table."""
    n = 0
    for f in spec_fields:
        value = values.get(f.key)
        if value in (None, "", []):
            continue
        if f.type == "table":
            n += sum(_leaves(f.fields, row) for row in value if isinstance(row, dict))
        else:
            n += 1
    return n


def _files(form_materials, user) -> dict:
    from tongban.services.demo import sample_pdf
    from tongban.services.uploads import store

    out = {}
    for m in form_materials:
        if "pdf" in m.types:
            out[m.key] = [store(sample_pdf(m.key), f"{m.key}.pdf", user)]
        else:
            import segno

            buf = io.BytesIO()
            segno.make(m.key).save(buf, kind="png", scale=4)
            out[m.key] = [store(buf.getvalue(), f"{m.key}.png", user)]
    return out


class Clock:
    """Simulated units: each case is acted on by the unit that holds it, some working
    hours after it arrived; `done` records when each case's output existed."""

    def __init__(self):
        from tongban.services import calendar

        self.cal = calendar.current()
        self.queue: list[tuple[datetime, int]] = []
        self.seen: set[int] = set()
        self.done: dict[int, datetime] = {}
        self.actors: dict[tuple[str, str], object] = {}

    def arrive(self, case, now: datetime) -> None:
        from tongban.engine.calendar import Duration
        from tongban.services import catalog

        spec = catalog.spec_for(case)
        state = spec.workflow.states[case.state]
        if case.outcome or case.certificates.exists():
            self.done.setdefault(case.pk, now)
            return
        if case.pending_role in (None, "", "applicant"):
            return
        hours = UNIT_HOURS.get(state.level, UNIT_HOURS[None])
        heapq.heappush(self.queue, (self.cal.add(now, Duration(hours, "working_hours")), case.pk))

    def run(self, after=None) -> None:
        from tongban.store.models import Case

        while self.queue:
            at, pk = heapq.heappop(self.queue)
            case = Case.objects.get(pk=pk)
            self._act(case, at)
            self.arrive(Case.objects.get(pk=pk), at)
            if after is not None:
                after(at)

    def _act(self, case, at: datetime) -> None:
        from tongban.services import cases, catalog

        spec = catalog.spec_for(case)
        user = self._actor(case)
        allowed = cases.allowed_actions(case, user)
        primary = [a for a in allowed if spec.workflow.actions[a].style == "primary"]
        if not primary:
            raise SystemExit(f"no primary action for {case.matter_code} in {case.state}")
        action = spec.workflow.actions[primary[0]]
        comment = "同意" if action.comment == "required" else ""
        cases.act(case.pk, user, cases.ActRequest(action=primary[0], comment=comment), now=at)

    def _actor(self, case):
        from tongban.services import cases
        from tongban.store.models import Membership

        key = (case.pending_role, case.org_path)
        if key not in self.actors:
            for m in Membership.objects.filter(role=case.pending_role).select_related("user"):
                if cases.allowed_actions(case, m.user):
                    self.actors[key] = m.user
                    break
            else:
                raise SystemExit(f"nobody may act on {case.matter_code} in {case.state}")
        return self.actors[key]

    def hours(self, end: datetime) -> float:
        return round(self.cal.working_seconds_between(T0, end) / 3600, 2)


def _body(matter) -> tuple[str, str]:
    return (matter.body.level, matter.body.department)


def _bodies(plans, matters) -> int:
    return len({_body(matters[p.matter]) for p in plans})


def bundled(code: str, user, answers: dict) -> dict:
    from tongban.engine import bundles as rules
    from tongban.services import bundles
    from tongban.store.models import Bundle, BundleItem

    spec, form, matters = bundles.spec_and_form(code)
    files = _files(form.materials, user)
    clock = Clock()
    start = clock.cal.add(T0, _hours(VISIT_HOURS))
    b = bundles.submit(code, user, answers, materials=files, now=start)

    def started(at: datetime) -> None:
        for item in BundleItem.objects.filter(bundle=b, case__isnull=False).select_related("case"):
            if item.case_id not in clock.seen:
                clock.seen.add(item.case_id)
                clock.arrive(item.case, at)

    started(start)
    clock.run(after=started)
    b = Bundle.objects.get(pk=b.pk)
    if not b.outcome:
        raise SystemExit(f"bundle {code} did not close")
    plan = rules.split(spec, matters, answers, files)
    return {
        "fields": _leaves(form.fields, answers),
        "materials": sum(bool(files.get(m.key)) for m in form.materials),
        "submissions": 1,
        "counters": 1,
        "hours": clock.hours(b.closed_at),
        "sub_cases": len(plan.plans),
        "units": _bodies(plan.plans, matters),
    }


def separate(code: str, user, answers: dict) -> dict:
    """The same applications filed one by one, each at its counter, in the bundle's order;
    an application that needs another's certificate waits for it."""
    from tongban.engine import bundles as rules
    from tongban.services import bundles, cases

    spec, form, matters = bundles.spec_and_form(code)
    files = _files(form.materials, user)
    plan = rules.split(spec, matters, answers, files)
    clock = Clock()
    by_item: dict[str, list[int]] = {}
    free = T0
    counters_visited: list[tuple] = []
    fields = materials = 0
    pending = list(plan.plans)
    item_of = {i.key: i for i in spec.items}

    def needs_done(p) -> list[datetime] | None:
        """When each certificate this application needs came out (None: not yet)."""
        times = []
        for need in item_of[p.item].needs:
            pks = by_item.get(need)
            if not pks or any(pk not in clock.done for pk in pks):
                return None
            times += [clock.done[pk] for pk in pks]
        return times

    while pending:
        ready = [p for p in pending if needs_done(p) is not None]
        if not ready:
            raise SystemExit(f"{code}: an application separately never got what it needs")
        first = ready[0]
        body = _body(matters[first.matter])
        batch = [p for p in ready if _body(matters[p.matter]) == body]  # one visit per counter
        free = max([free, *needs_done(first)])
        free = clock.cal.add(free, _hours(VISIT_HOURS))
        counters_visited.append(body)
        for p in batch:
            pending.remove(p)
            item = item_of[p.item]
            data = {**p.data, **rules.received(item, _outputs(by_item, item.needs))}
            matter = matters[p.matter]
            fields += _leaves([f for f in matter.fields if not f.internal], data)
            materials += sum(bool(v) for v in p.materials.values())
            case = cases.submit(p.matter, user, data, materials=p.materials, now=free)
            by_item.setdefault(p.item, []).append(case.pk)
            clock.arrive(case, free)
        # The units work meanwhile; separate applications do not wait for one another, so
        # the queue may run ahead of the applicant's next visit.
        clock.run()
    end = max(clock.done[pk] for pks in by_item.values() for pk in pks)
    return {
        "fields": fields,
        "materials": materials,
        "submissions": len(plan.plans),
        "counters": len(counters_visited),
        "hours": clock.hours(end),
        "sub_cases": len(plan.plans),
        "units": _bodies(plan.plans, matters),
    }


def _outputs(by_item: dict[str, list[int]], needs) -> dict:
    from tongban.store.models import Case

    out = {}
    for key in needs:
        case = Case.objects.get(pk=by_item[key][0])
        cert = case.certificates.order_by("pk").first()
        out[key] = {**case.data, "certificate": cert and cert.number}
    return out


def _hours(h: float):
    from tongban.engine.calendar import Duration

    return Duration(h, "working_hours")


def scenarios(employees: int) -> list[tuple[str, str, dict]]:
    from tongban.services.demo_packs import resumption_bundle

    return [
        ("newborn", "zhangsan", dict(NEWBORN)),
        ("resumption", "ent_demo", resumption_bundle.answers(1, employees)),
    ]


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="5 employees instead of 30")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--employees", type=int, help="employees in the resumption scenario")
    args = p.parse_args(argv)
    employees = args.employees or (5 if args.quick else 30)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tongban-bench-bundle-") as tmp:
        _setup(Path(tmp))
        from django.contrib.auth import get_user_model

        users = get_user_model().objects
        out: dict[str, dict] = {}
        for code, username, answers in scenarios(employees):
            user = users.get(username=username)
            sep = separate(code, user, answers)
            bun = bundled(code, user, answers)
            keys = ("fields", "materials", "submissions", "counters", "hours")
            out[code] = {
                "separate": sep,
                "bundled": bun,
                "ratios": {k: _ratio(sep[k], bun[k]) for k in keys},
            }
            if code == "resumption":
                out[code]["employees"] = employees
    result = {
        "bench": "bundle",
        "quick": args.quick,
        "assumptions": {
            "unit_hours": {str(k): v for k, v in UNIT_HOURS.items()},
            "visit_hours": VISIT_HOURS,
            "start": T0.isoformat(),
        },
        "bundles": out,
        "seconds": round(time.perf_counter() - started, 1),
    }
    _print(result)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


def _print(result: dict) -> None:
    for code, r in result["bundles"].items():
        extra = f"（{r['employees']} 名员工）" if "employees" in r else ""
        print(
            f"{code}{extra}: {r['separate']['sub_cases']} 件事项，{r['separate']['units']} 个单位"
        )
        print(f"  {'':12}{'separately':>12}{'bundled':>10}{'ratio':>8}")
        for k in ("fields", "materials", "submissions", "counters", "hours"):
            s, b, ratio = r["separate"][k], r["bundled"][k], r["ratios"][k]
            print(f"  {k:12}{s:>12}{b:>10}{(str(ratio) + '×') if ratio else '-':>8}")
    print(f"({result['seconds']} s)")


if __name__ == "__main__":
    raise SystemExit(main())
