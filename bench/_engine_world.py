"""The tongban side of bench/engine.py: Django set-up, the org tree and users, the flow
through the service layer, its checks, and the statements each step sends."""

from __future__ import annotations

import sys
import time

from _engine_common import APPLICATION, MATTER, MATTER_FILE, ROLES_FILE, ROOT, STEPS


def _setup_django(vendor: str) -> None:
    import django

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    django.setup()
    if vendor == "postgresql":
        from django.db.backends.signals import connection_created

        def _sync_on(sender, connection, **kwargs):
            with connection.cursor() as cur:
                cur.execute("SET synchronous_commit TO on")

        connection_created.connect(_sync_on, weak=False)

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _connection_settings(vendor: str) -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "sqlite":
            cur.execute("PRAGMA journal_mode")
            journal = cur.fetchone()[0]
            cur.execute("PRAGMA synchronous")
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cur.fetchone()[0]]
            cur.execute("SELECT sqlite_version()")
            version = cur.fetchone()[0]
            return {
                "version": version,
                "journal_mode": journal,
                "synchronous": sync,
                "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
                "file": str(connection.settings_dict["NAME"]),
            }
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
        cur.execute("SHOW synchronous_commit")
        sync = cur.fetchone()[0]
        cur.execute("SHOW fsync")
        fsync = cur.fetchone()[0]
        return {
            "version": version,
            "synchronous_commit": sync,
            "fsync": fsync,
            "database": connection.settings_dict["NAME"],
        }


class World:
    """The org tree, users and loaded matter the tongban flow runs on."""

    def __init__(self):
        from django.contrib.auth import get_user_model

        from tongban.services import calendar, catalog
        from tongban.store.models import Membership, Org, Profile

        calendar.seed()
        report = catalog.load([MATTER_FILE, ROLES_FILE])
        if not report.ok:
            raise SystemExit("bench matter does not load:\n" + "\n".join(map(str, report.problems)))
        district = Org(code="320507", name="相城区", level="district")
        district.save()
        street = Org(code="320507103", name="阳澄湖镇", level="street", parent=district)
        street.save()
        community = Org(code="320507103001", name="湘城社区", level="community", parent=street)
        community.save()
        User = get_user_model()

        def user(name: str, display: str, kind: str, org=None, role=None):
            u = User.objects.create_user(name, first_name=display)  # unusable password
            Profile.objects.create(user=u, kind=kind, display_name=display, home_org=org)
            if role:
                Membership.objects.create(user=u, org=org, role=role)
            return u

        self.applicant = user("bench_applicant", "张三", "person", community)
        self.clerk = user("bench_clerk", "阳澄湖镇窗口", "staff", street, "clerk")
        self.reviewer = user("bench_reviewer", "阳澄湖镇审核", "staff", street, "reviewer")
        self.approver = user("bench_approver", "相城区审批", "staff", district, "approver")
        self.actors = {
            "accept": self.clerk,
            "review": self.reviewer,
            "approve": self.approver,
        }
        self.step_seconds = dict.fromkeys(STEPS, 0.0)
        self.step_count = 0

    def flow(self) -> None:
        """One full case: submit, accept, review, approve (certificate issued)."""
        from tongban.services import cases

        clock = time.perf_counter
        t0 = clock()
        case = cases.submit(MATTER, self.applicant, APPLICATION)
        t1 = clock()
        self.step_seconds["submit"] += t1 - t0
        for action in STEPS[1:]:
            case = cases.act(
                case.pk, self.actors[action], cases.ActRequest(action=action, comment="同意")
            )
            t2 = clock()
            self.step_seconds[action] += t2 - t1
            t1 = t2
        if case.state != "approved":
            raise AssertionError(f"case {case.pk} ended in {case.state}")
        self.step_count += 1

    def verify(self) -> dict:
        """Every approved case has one certificate; the numbers run 1..N without a gap;
        the hash chains of the last few cases verify."""
        from tongban.services.audit import verify_all
        from tongban.store.models import Case, Certificate

        approved = Case.objects.filter(matter_code=MATTER, state="approved").count()
        numbers = sorted(
            Certificate.objects.filter(matter_code=MATTER).values_list("number", flat=True)
        )
        if any(not (n.startswith("320507") and len(n) == 16 and n.isdigit()) for n in numbers):
            raise AssertionError(
                f"certificate numbers not like {{division}}{{year}}{{seq:6}}: {numbers[:3]}"
            )
        by_year: dict[str, list[int]] = {}  # the counter resets yearly
        for n in numbers:
            by_year.setdefault(n[6:10], []).append(int(n[10:]))
        gapless = all(sorted(v) == list(range(1, len(v) + 1)) for v in by_year.values())
        seqs = numbers
        if not gapless or len(seqs) != approved:
            raise AssertionError(
                f"certificates: {len(seqs)} for {approved} cases, gapless={gapless}"
            )
        last = list(
            Case.objects.filter(matter_code=MATTER)
            .order_by("-pk")
            .values_list("pk", flat=True)[:20]
        )
        broken = [str(f) for _, f in verify_all(last) if f is not None]
        if broken:
            raise AssertionError(f"hash chain: {broken[0]}")
        return {
            "cases": approved,
            "certificates": len(seqs),
            "gapless": gapless,
            "first": numbers[0] if numbers else None,
            "last": numbers[-1] if numbers else None,
        }

    def queries_per_step(self, show_sql: bool) -> dict:
        """SQL statements each step sends (one case, captured on the live connection)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tongban.services import cases

        counts: dict[str, int] = {}
        sql: dict[str, list[str]] = {}
        with CaptureQueriesContext(connection) as q:
            case = cases.submit(MATTER, self.applicant, APPLICATION)
        counts["submit"], sql["submit"] = len(q), [x["sql"] for x in q.captured_queries]
        for action in STEPS[1:]:
            with CaptureQueriesContext(connection) as q:
                cases.act(
                    case.pk, self.actors[action], cases.ActRequest(action=action, comment="同意")
                )
            counts[action], sql[action] = len(q), [x["sql"] for x in q.captured_queries]
        return {"counts": counts, "sql": sql if show_sql else None}


def _profile(world: World, n: int) -> str:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        world.flow()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)
    return out.getvalue()
