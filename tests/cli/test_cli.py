"""The `tongban` command line: exit codes and messages people and scripts rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import CATALOG
from tongban.services import catalog, worker
from tongban.store.models import Case, Delivery, Event, MatterVersion, Outbox

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None):
    env = {**os.environ, "TONGBAN_SECRET_KEY": "cli-test-key", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tongban", *args], capture_output=True, text=True, cwd=ROOT, env=env
    )


def test_catalog_check_ok_and_bad(tmp_path):
    ok = run_cli("catalog", "check", str(CATALOG))
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "cat"
    bad.mkdir()
    (bad / "roles.yaml").write_text((CATALOG / "roles.yaml").read_text("utf-8"), "utf-8")
    text = (CATALOG / "demo" / "road_occupation.yaml").read_text("utf-8")
    (bad / "m.yaml").write_text(
        text.replace("to: review, style: primary", "to: reviw, style: primary"), "utf-8"
    )
    result = run_cli("catalog", "check", str(bad))
    assert result.returncode == 1
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "accept:" in t)
    assert f"m.yaml:{line}: workflow.actions.accept.to: 未知的环节 'reviw'" in result.stderr


def test_catalog_schema_is_json_schema():
    result = run_cli("catalog", "schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "MatterSpec" and "workflow" in schema["properties"]


def test_changed_file_is_new_version_running_cases_keep_theirs(world, tmp_path, users):
    from tests.services.test_cases import submit

    case = submit(users)
    v1 = MatterVersion.objects.get(code="road_occupation", current=True)
    cat = tmp_path / "cat"
    (cat / "demo").mkdir(parents=True)
    (cat / "roles.yaml").write_text((CATALOG / "roles.yaml").read_text("utf-8"), "utf-8")
    text = (CATALOG / "demo" / "road_occupation.yaml").read_text("utf-8")
    (cat / "demo" / "road_occupation.yaml").write_text(
        text.replace("5个工作日", "5 个工作日").replace(
            "time_limit: {working_days: 5}", "time_limit: {working_days: 4}"
        ),
        "utf-8",
    )
    report = catalog.load([cat])
    assert report.ok and ("road_occupation", v1.version + 1) in report.created
    assert Case.objects.get(pk=case.pk).matter_id == v1.pk
    assert catalog.current_version("road_occupation").version == v1.version + 1
    # loading the same file again changes nothing
    assert ("road_occupation", v1.version + 1) in catalog.load([cat]).unchanged
    catalog.load([CATALOG])  # back to the original for other tests


def test_case_submit_act_show_through_commands(world, tmp_path, capsys):
    from tests.services.test_cases import GOOD
    from tongban.services.demo import demo_materials
    from tongban.store.models import Draft  # noqa: F401 (app registry loaded)

    data = tmp_path / "apply.json"
    data.write_text(json.dumps(GOOD, ensure_ascii=False), "utf-8")
    with pytest.raises(CommandError, match="占道平面示意图"):
        call_command("case", "submit", "road_occupation", "--data", str(data), "--as", "zhangsan")
    from django.contrib.auth import get_user_model

    refs = demo_materials(get_user_model().objects.get(username="zhangsan"))
    data.write_text(json.dumps({**GOOD, "_materials": refs}, ensure_ascii=False), "utf-8")
    call_command(
        "case",
        "submit",
        "road_occupation",
        "--data",
        str(data),
        "--as",
        "zhangsan",
        "--key",
        "cli-1",
    )
    case_id = int(capsys.readouterr().out.strip())
    call_command(
        "case",
        "submit",
        "road_occupation",
        "--data",
        str(data),
        "--as",
        "zhangsan",
        "--key",
        "cli-1",
    )
    assert int(capsys.readouterr().out.strip()) == case_id
    call_command("case", "act", str(case_id), "accept", "--as", "clerk_yangchenghu")
    with pytest.raises(CommandError, match="意见"):
        call_command("case", "act", str(case_id), "refuse", "--as", "reviewer_yangchenghu")
    with pytest.raises(CommandError, match="不存在"):
        call_command("case", "act", str(case_id), "accept", "--as", "nobody")
    call_command("case", "show", str(case_id))
    out = capsys.readouterr().out
    assert "审核中" in out and "受理" in out and "承诺办结" in out


def test_bad_json_file_is_reported_with_line(world, tmp_path):
    data = tmp_path / "bad.json"
    data.write_text('{\n "a": 1,\n}', "utf-8")
    with pytest.raises(CommandError, match=r"bad.json:3: JSON 格式错误"):
        call_command("case", "submit", "road_occupation", "--data", str(data), "--as", "zhangsan")


def test_worker_marks_overdue_once_and_delivers_exactly_once(users):
    from datetime import timedelta

    from django.utils import timezone

    from tests.services.test_cases import submit

    case = submit(users)
    later = timezone.now() + timedelta(days=30)
    assert worker.sweep(now=later) >= 1
    assert worker.sweep(now=later) == 0  # once
    case.refresh_from_db()
    assert case.overdue and case.ever_overdue
    overdue = Event.objects.get(case=case, kind="overdue")
    assert json.loads(overdue.body)["payload"]["escalate_to"] == "head"
    topics = set(Outbox.objects.filter(case=case).values_list("topic", flat=True))
    assert {"state_changed", "overdue", "escalated"} <= topics
    pending = Outbox.objects.filter(delivered_at__isnull=True).count()
    delivered = 0
    while n := worker.deliver(batch=7):
        delivered += n
    assert delivered == pending
    assert worker.deliver() == 0
    assert Delivery.objects.count() == Outbox.objects.count()
    from tongban.services.audit import verify_all

    assert [f for _, f in verify_all([case.pk])] == [None]


def test_audit_verify_command(users, capsys):
    from tests.services.test_cases import submit

    submit(users)
    call_command("audit", "verify")
    assert "记录链完整" in capsys.readouterr().out


def test_secret_key_required_outside_debug():
    drop = ("TONGBAN_SECRET_KEY", "TONGBAN_DEBUG", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["TONGBAN_VAR"] = "/nonexistent-var-dir"
    result = subprocess.run(
        [sys.executable, "-m", "tongban", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode != 0 and "TONGBAN_SECRET_KEY" in result.stderr
