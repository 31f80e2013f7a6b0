"""督办: a supervisor or head presses an open case, telling whoever holds it and their head.

One transaction writes the `escalated` event on the case's hash chain, bumps the case's
version (the same guarded update as every other action, via `cases.apply`) and puts the
messages in the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tongban.engine.schema import MatterSpec
from tongban.engine.workflow import Effect, EventDraft, Outcome
from tongban.services import cases, catalog
from tongban.services.context import actor_for
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.records import state_of
from tongban.services.stats import SUPERVISING_ROLES, pending_org_code
from tongban.store.models import Case, Event, Membership, Org

TOPIC = "escalated"
HEAD_ROLE = "head"
SIGN = "@sign"
MAX_COMMENT = 500
REPEAT_WINDOW = timedelta(minutes=10)  # one user pressing one case twice in a row: a double click


def escalate(case_id: int, user, comment: str, *, now: datetime | None = None) -> Case:
    """督办 an open case in the user's jurisdiction. Returns the updated case."""
    comment = (comment or "").strip()
    if not comment:
        raise Invalid("请填写督办意见", {"comment": "督办意见必填"})
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"督办意见最多 {MAX_COMMENT} 字", {"comment": "太长"})
    now = now or timezone.now()
    with transaction.atomic():
        try:
            case = Case.objects.select_related("matter", "org").get(pk=int(case_id))
        except (Case.DoesNotExist, ValueError, TypeError, OverflowError):
            raise NotFound(cases.NOT_FOUND) from None
        actor = actor_for(user)
        if not actor.holds(SUPERVISING_ROLES, case.org_path, None):
            if cases.visible(case, actor):
                raise Forbidden("只有该辖区的督办员或单位负责人可以督办")
            raise NotFound(cases.NOT_FOUND)
        if not case.is_open:
            raise Conflict("办件已办结，无需督办")
        recent = Event.objects.filter(
            case_id=case.pk, kind="escalated", actor_id=user.pk, at__gte=now - REPEAT_WINDOW
        )
        if recent.exists():
            raise Conflict("您刚刚督办过该办件，请勿重复督办")
        spec = catalog.spec_of(case.matter)
        to = recipients(case, spec, exclude_user_id=user.pk)
        deadline = case.deadline.isoformat() if case.deadline else None
        draft = EventDraft(
            "escalated",
            case.state,
            case.state,
            user.pk,
            comment=comment,
            payload={"recipients": to, "deadline": deadline},
        )
        effects = tuple(
            Effect(
                "notify",
                TOPIC,
                {
                    **r,
                    "state": case.state,
                    "comment": comment,
                    "by": user.pk,
                    "by_name": actor.name,
                    "deadline": deadline,
                },
            )
            for r in to
        )
        outcome = Outcome(state=state_of(case), events=(draft,), effects=effects)
        cases.apply(case, spec, outcome, actor, now)
    return case


def recipients(case: Case, spec: MatterSpec, *, exclude_user_id: int | None = None) -> list[dict]:
    """Who hears of a 督办: the handler (a named user, or the role(s) the step waits for) and
    the heads of the unit where the step sits (its `Org.head` and its `head` members; the
    nearest unit up the tree that has one)."""
    out: list[dict] = []
    if case.handler_id:
        out.append({"to": "user", "user_id": case.handler_id, "as": "handler"})
    elif case.pending_role == SIGN:
        st = spec.state(case.state)
        signed = {role for role, _ in case.signatures}
        for role in st.sign.roles if st.sign else ():
            if role not in signed:
                out.append({"to": "role", "role": role, "as": "handler"})
    elif case.pending_role and case.pending_role != "applicant":
        out.append({"to": "role", "role": case.pending_role, "as": "handler"})
    heads = _heads(case)
    if not heads:
        out.append({"to": "role", "role": HEAD_ROLE, "as": "head"})
    told = {r["user_id"] for r in out if r["to"] == "user"}
    for uid in heads:
        if uid not in told and uid != exclude_user_id:
            out.append({"to": "user", "user_id": uid, "as": "head"})
    return out


def _heads(case: Case) -> list[int]:
    unit = pending_org_code(case)
    codes = case.org_path.split("/")
    chain = codes[: codes.index(unit) + 1] if unit in codes else codes
    orgs = {o.code: o for o in Org.objects.filter(code__in=chain)}
    members: dict[int, set[int]] = {}
    for org_id, user_id in Membership.objects.filter(
        org__code__in=chain, role=HEAD_ROLE
    ).values_list("org_id", "user_id"):
        members.setdefault(org_id, set()).add(user_id)
    for code in reversed(chain):  # the step's unit first, then up the tree
        org = orgs.get(code)
        if org is None:
            continue
        found = set(members.get(org.pk, ()))
        if org.head_id:
            found.add(org.head_id)
        if found:
            return sorted(found)
    return []
