"""A case's history as people read it: states, who did what, deadlines."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from tongban.services import catalog
from tongban.services.errors import NotFound
from tongban.store.choices import EventKind
from tongban.store.models import Case

TZ = ZoneInfo("Asia/Shanghai")
EXTRA_TITLES = {"revoke_certificate": "撤销证照"}  # service-level actions outside a workflow


def state_label(case: Case) -> str:
    spec = catalog.spec_of(case.matter)
    return spec.state(case.state).label


def _fmt(dt) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if dt else ""


def events(case: Case) -> list[dict]:
    spec = catalog.spec_of(case.matter)
    actors = {}
    rows = list(case.events.order_by("seq"))
    ids = {e.actor_id for e in rows if e.actor_id}
    for u in get_user_model().objects.filter(pk__in=ids):
        actors[u.pk] = u.get_full_name() or u.get_username()
    out = []
    for e in rows:
        body = json.loads(e.body)
        action = spec.workflow.actions.get(e.action)
        title = action.label if action else EXTRA_TITLES.get(e.action) or EventKind(e.kind).label
        out.append(
            {
                "seq": e.seq,
                "at": _fmt(e.at),
                "kind": e.kind,
                "title": title,
                "from": spec.workflow.states[e.from_state].label
                if e.from_state in spec.workflow.states
                else "",
                "to": spec.workflow.states[e.to_state].label
                if e.to_state in spec.workflow.states
                else e.to_state,
                "actor": actors.get(e.actor_id, "系统" if not e.actor_id else f"用户{e.actor_id}"),
                "comment": body.get("comment", ""),
                "payload": body.get("payload", {}),
            }
        )
    return out


def for_cli(case_id: int) -> dict:
    case = Case.objects.select_related("matter", "org").filter(pk=case_id).first()
    if case is None:
        raise NotFound(f"办件 {case_id} 不存在")
    spec = catalog.spec_of(case.matter)
    now = timezone.now()
    return {
        "id": case.pk,
        "matter": f"{spec.name}（{spec.code} v{case.matter.version}）",
        "org": case.org.name,
        "state": spec.state(case.state).label,
        "outcome": case.outcome,
        "version": case.version,
        "submitted_at": _fmt(case.submitted_at),
        "step_deadline": _fmt(case.deadline),
        "due_at": _fmt(case.due_at),
        "overdue": bool(case.is_open and case.deadline and case.deadline < now),
        "data": case.data,
        "certificates": list(case.certificates.values_list("number", flat=True)),
        "events": events(case),
    }


def render_text(view: dict) -> str:
    lines = [
        f"办件 {view['id']}  {view['matter']}",
        f"所属：{view['org']}    当前环节：{view['state']}    版本：{view['version']}",
        f"提交：{view['submitted_at']}    本环节时限：{view['step_deadline'] or '—'}"
        f"    承诺办结：{view['due_at'] or '—'}" + ("    【已超期】" if view["overdue"] else ""),
    ]
    if view["certificates"]:
        lines.append("证照：" + "、".join(view["certificates"]))
    lines.append("")
    for e in view["events"]:
        move = f"{e['from']} → {e['to']}" if e["from"] and e["from"] != e["to"] else e["to"]
        comment = f"  意见：{e['comment']}" if e["comment"] else ""
        lines.append(f"{e['seq']:>3}. {e['at']}  {e['title']:<10} {move}  [{e['actor']}]{comment}")
    return "\n".join(lines)


def related(case: Case, user) -> list[tuple[str, Case, str, str]]:
    """The cases this one came from and gave rise to (a request referred to mediation, a
    rating's rectification, a bundle item's follow-on), as far as the user may see them."""
    from tongban.services.cases import visible
    from tongban.services.context import actor_for

    actor = actor_for(user)
    found = []
    if case.parent_id:
        found.append(("来源办件", case.parent))
    found += [("派生办件", c) for c in case.spawned.order_by("pk")[:50]]
    return [
        (label, c, catalog.spec_of(c.matter).name, state_label(c))
        for label, c in found
        if visible(c, actor)
    ]
