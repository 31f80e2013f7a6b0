"""The worker's part of 诉求: the 催办 (urge notice) the day after a missed deadline, and
merged requests following their original (answered with its reply, or split out again
when it ends without one)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tongban.engine import workflow
from tongban.engine.workflow import SYSTEM_ACTOR, Effect, EventDraft
from tongban.services import calendar, catalog
from tongban.services.cases import apply
from tongban.services.records import state_of
from tongban.services.requests.spec import MATTER
from tongban.store.models import Case, Event, RequestLink

URGE_AFTER = timedelta(days=1)
URGE_TOPIC = "urge"  # 催办
DEPARTMENT_STATES = ("dispatched", "handling", "rehandling")


def sweep(now: datetime | None = None, batch: int = 200) -> int:
    """One pass for the worker; returns how many requests it changed."""
    now = now or timezone.now()
    return sweep_urges(now, batch) + follow_originals(now, batch)


def sweep_urges(now: datetime | None = None, batch: int = 200) -> int:
    """A request still with its department a day after the step's deadline: a 催办 notice
    to the department, copied to the supervisor, once per step (an `escalated` event with
    action `urge` on the chain). The overdue mark and the first escalation are the generic
    sweep's, at the deadline itself."""
    now = now or timezone.now()
    urged = Event.objects.filter(
        case_id=OuterRef("pk"), kind="escalated", action="urge", at__gte=OuterRef("entered_at")
    )
    due = list(
        Case.objects.filter(
            matter_code=MATTER,
            outcome="",
            state__in=DEPARTMENT_STATES,
            deadline__lt=now - URGE_AFTER,
        )
        .exclude(Exists(urged))
        .order_by("deadline")
        .values_list("pk", flat=True)[:batch]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            case = Case.objects.select_related("matter").filter(pk=pk).first()
            if case is None or case.state not in DEPARTMENT_STATES or not case.pending_role:
                continue
            if Event.objects.filter(
                case_id=pk, kind="escalated", action="urge", at__gte=case.entered_at
            ).exists():
                continue
            spec = catalog.spec_of(case.matter)
            deadline = case.deadline.isoformat() if case.deadline else None
            comment = "超过办理时限一天仍未办结，系统催办，并抄送督办员"
            common = {"state": case.state, "deadline": deadline, "comment": comment}
            effects = (
                Effect("notify", URGE_TOPIC, {"to": "role", "role": case.pending_role, **common}),
                Effect("notify", URGE_TOPIC, {"to": "role", "role": "supervisor", **common}),
            )
            draft = EventDraft(
                "escalated",
                case.state,
                case.state,
                SYSTEM_ACTOR.user_id,
                action="urge",
                comment=comment,
                payload={"department": case.pending_role, "deadline": deadline},
            )
            outcome = workflow.Outcome(state=state_of(case), events=(draft,), effects=effects)
            apply(case, spec, outcome, SYSTEM_ACTOR, now)
            done += 1
    return done


def _reply_of(original: Case) -> str:
    ev = original.events.filter(action__in=("reply", "reply_again")).order_by("-seq").first()
    if ev is None:
        return ""
    return str(json.loads(ev.body).get("comment", ""))


def follow_originals(now: datetime | None = None, batch: int = 200) -> int:
    """Merged requests follow their original (`merged_into`): answered with its reply once
    it is replied (each resident then gets their own callback), split out again when the
    original ends without an answer (withdrawn or referred), so nobody's request is lost."""
    from tongban.services import duplicates

    now = now or timezone.now()
    waiting = list(
        Case.objects.filter(matter_code=MATTER, state="merged")
        .order_by("pk")
        .values_list("pk", "data")[: batch * 5]
    )
    originals = {
        c.pk: c
        for c in Case.objects.filter(
            pk__in={d.get("merged_into") for _, d in waiting if d.get("merged_into")}
        )
    }
    done = 0
    for pk, data in waiting:
        original = originals.get(data.get("merged_into"))
        answered = original is not None and original.state in ("replied", "rereplied", "closed")
        ended = original is None or (original.outcome and not answered)
        if not (answered or ended) or done >= batch:
            continue
        with transaction.atomic():
            case = Case.objects.select_related("matter").filter(pk=pk, state="merged").first()
            if case is None:
                continue
            spec = catalog.spec_of(case.matter)
            if answered:
                action = "answer_merged"
                comment = f"与诉求 {original.pk} 并案办理，答复如下：{_reply_of(original)}"
            else:
                action = "unmerge"
                label = spec.state(original.state).label if original else "已不存在"
                number = original.pk if original else data.get("merged_into")
                comment = f"主件诉求 {number} {label}，本件恢复单独办理"
            outcome = workflow.act(
                spec,
                state_of(case),
                SYSTEM_ACTOR,
                action,
                workflow.ActionInput(comment=comment[:2000]),
                now,
                calendar.current(),
            )
            apply(case, spec, outcome, SYSTEM_ACTOR, now)
            if action == "unmerge":
                link = RequestLink.objects.filter(request_id=pk).first()
                if link is not None:
                    duplicates.set_status(link, RequestLink.SEPARATE, None, now)
            done += 1
    return done
