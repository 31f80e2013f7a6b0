"""A missed instalment of a mediation agreement reaches both parties and the mediator: the
applicant and the street's mediators in the system, the respondent (被申请人, usually the
party who owes the money, usually without an account) by a text message to the phone in
the parties table — once per missed instalment, however often the worker runs."""

from __future__ import annotations

import json
from collections import Counter

from tests.conftest import CATALOG
from tests.packs.community import act, at, audit_ok, fresh, reminded
from tests.packs.mediation import PARTIES, PLAN, agree, file_dispute, to_mediating
from tongban.engine.loader import load_catalog
from tongban.services.worker import run_once
from tongban.store.models import Delivery, Outbox

PATH = "320507/320507103/320507103001"  # 湘城社区
TEXT = (
    "王小明您好：「矛盾纠纷调解」调解协议分期履行到期提醒：应履行日期 {due} 的一期尚未登记为"
    "已履行。请尽快办理；如已办理，请联系经办人登记。"
)


def reminders(case) -> Counter:
    rows = Outbox.objects.filter(case=case, topic="reminder")
    return Counter((m.recipient, m.payload["due"]) for m in rows)


def test_each_missed_instalment_reaches_applicant_respondent_and_mediator_once(
    users, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path
    case = to_mediating(users)
    agree(users, case)  # 1000 by 11-10, 1000 by 11-20, 800 by 11-30; nothing paid yet
    applicant = f"user:{users.zhangsan.pk}"
    everyone = {applicant, f"role:mediator@{PATH}", "sms:139****1111"}

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # the worker runs twice: still one reminder each
            run_once(now=at("2026-11-11", "08:00"))
    assert reminded(case) == [0]
    assert reminders(case) == Counter({(who, "2026-11-10"): 1 for who in everyone})

    text = Outbox.objects.get(case=case, recipient="sms:139****1111")
    assert text.payload["phone"] == "13900001111"  # stored normalised: "139 0000 1111"
    assert text.payload["person"] == "王小明"
    assert text.payload["text"] == TEXT.format(due="2026-11-10")
    assert text.delivered_at is not None
    assert Delivery.objects.get(delivery_id=text.delivery_id).payload["phone"] == "13900001111"
    # The log file, unlike the delivery record, never holds the whole number.
    log = (tmp_path / "log" / "outbox.jsonl").read_text("utf-8")
    line = next(json.loads(x) for x in log.splitlines() if str(text.delivery_id) in x)
    assert (line["to"], line["payload"]["phone"]) == ("sms:139****1111", "139****1111")
    assert "13900001111" not in log

    # The first instalment is paid late; the second and third are missed: one more
    # reminder each, to the same three, and nothing again for the first.
    paid_first = [dict(PLAN[0], paid=True), *PLAN[1:]]
    act(
        case,
        users.mediator_yangchenghu,
        "record_payment",
        now=at("2026-11-12"),
        comment="第一期 1000 元已付",
        data={"instalments": paid_first},
    )
    for _ in range(2):
        run_once(now=at("2026-12-01", "08:00"))
    assert reminded(case) == [0, 1, 2]
    assert reminders(case) == Counter(
        {(who, due): 1 for who in everyone for due in ("2026-11-10", "2026-11-20", "2026-11-30")}
    )
    events = fresh(case).events.filter(kind="reminded")
    assert [json.loads(e.body)["payload"]["row"] for e in events.order_by("seq")] == [0, 1, 2]
    audit_ok(case)


def test_only_respondents_with_a_mobile_number_are_texted(users):
    parties = [
        *PARTIES,
        {"party_role": "被申请人", "party_name": "王小明之妻", "party_phone": "0512-65221234"},
        {"party_role": "被申请人", "party_name": "王大明", "party_phone": "13900002222"},
        {"party_role": "被申请人", "party_name": "王小明（同号）", "party_phone": "13900001111"},
        {"party_role": "申请人", "party_name": "张三之妻", "party_phone": "13700003333"},
    ]
    case = file_dispute(users, parties=parties)
    act(case, users.mediator_yangchenghu, "accept", now=at("2026-11-02", "14:00"))
    agree(users, case)
    run_once(now=at("2026-11-11", "08:00"))
    texts = Outbox.objects.filter(case=case, recipient__startswith="sms:")
    # A landline cannot take a text; a number listed twice is texted once; the applicant's
    # side is told in the system.
    assert sorted(texts.values_list("recipient", flat=True)) == [
        "sms:139****1111",
        "sms:139****2222",
    ]
    assert {t.payload["person"] for t in texts} == {"王小明", "王大明"}


def test_text_message_rules_are_checked_against_the_table(tmp_path):
    text = (CATALOG / "packs" / "mediation.yaml").read_text("utf-8")
    rule = (
        "{table: parties, phone: party_phone, name: party_name,"
        " when: {field: party_role, op: eq, value: 被申请人}}"
    )
    assert text.count(rule) == 1
    bad = (
        "{table: partys, phone: party_phone}\n"
        "        - {table: parties, phone: party_name, name: party_nam,"
        " when: {field: dispute_type, op: eq, value: 被申请人}}"
    )
    (tmp_path / "roles.yaml").write_text((CATALOG / "roles.yaml").read_text("utf-8"), "utf-8")
    (tmp_path / "m.yaml").write_text(text.replace(rule, bad), "utf-8")
    where = "outputs.reminders.0.sms"
    assert sorted((p.path, p.message) for p in load_catalog([tmp_path]).problems) == [
        (f"{where}.0.table", "'partys' 不是表格字段（type: table）"),
        (f"{where}.1.name", "表格 'parties' 没有列 'party_nam'"),
        (f"{where}.1.phone", "列 'party_name' 应为 phone 类型"),
        (f"{where}.1.when", "表格 'parties' 没有列 'dispute_type'（条件按每一行判断）"),
    ]
