"""A registered request's way through the departments: dispatching by hand (a category the
model did not suggest is recorded as a correction), placing it in a street (属地), and
turning a dispute into a people's mediation case (转人民调解).

Every use case here looks the request up through `cases.get_case(case_id, user)` first:
a user who may not see a request learns nothing about it, not even from the validation
of what they posted (the same 404 as for a request that does not exist)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.services import cases
from tongban.services.cases import ActRequest, act
from tongban.services.errors import Invalid, NotFound
from tongban.services.requests.places import district_of
from tongban.services.requests.rules import department_for
from tongban.services.requests.spec import MATTER
from tongban.store.models import Case, Org, RoutingCorrection

NOT_FOUND = "诉求不存在"
# States a dispatcher routes from: a new request, or one its department sent back (退单),
# which stays with that department (its 承办部门 of record) until it is dispatched again.
DISPATCHABLE = ("registered", "sent_back")


def get_request(case_id: int, user) -> Case:
    """A request the user may see, or NotFound — the same answer for one that is missing,
    one of another matter and one outside the user's jurisdiction."""
    case = cases.get_case(case_id, user)
    if case.matter_code != MATTER:
        raise NotFound(NOT_FOUND)
    return case


def dispatch(
    case_id: int,
    user,
    category: str,
    department: str | None = None,
    *,
    org_code: str | None = None,
) -> Case:
    """A dispatcher routes a request by hand, a new one or one sent back; a category
    different from the model's suggestion is recorded as a correction for the next
    training. With `org_code` the request is first placed in that street or community
    (属地), in the same transaction: a refused dispatch leaves it where it was."""
    with transaction.atomic():
        case = get_request(case_id, user)
        if org_code and org_code != case.org.code:
            case = relocate(case.pk, user, org_code)
        department = department or department_for(category, case.org)
        if not department:
            raise Invalid("该类别没有派单规则，请选择承办部门", {"department": "必选"})
        predicted = case.data.get("category")
        result = act(
            case.pk,
            user,
            ActRequest(action="dispatch", data={"category": category, "department": department}),
        )
        if predicted != category:
            RoutingCorrection.objects.create(
                case=result,
                text=str(case.data.get("content", "")),
                predicted=predicted or "",
                confidence=case.data.get("route_confidence"),
                corrected=category,
                by=user,
            )
    return result


def sent_back_reason(case: Case) -> str:
    """Why the department sent the request back (the comment of the latest 退单)."""
    ev = case.events.filter(action="send_back").order_by("-seq").first()
    return str(json.loads(ev.body).get("comment", "")) if ev is not None else ""


def keep(case_id: int, user, comment: str) -> Case:
    """不同意退单: the dispatcher returns a sent-back request to its first department, which
    still owns it (it signs for it again, the reason is on the chain)."""
    with transaction.atomic():
        case = get_request(case_id, user)
        return act(case.pk, user, ActRequest(action="keep", comment=comment))


# -- where a request belongs (属地) --------------------------------------------------------


def relocate(case_id: int, user, org_code: str, *, now: datetime | None = None) -> Case:
    """Whoever holds a request now fixes the street or community it belongs to (one
    `relocate` note on its hash chain, and the case's org columns in the same transaction).
    The new org must lie in the same district."""
    now = now or timezone.now()
    with transaction.atomic():
        case = get_request(case_id, user)
        org = Org.objects.filter(code=(org_code or "").strip()[:20]).first()
        if org is None or org.level == "district" or district_of(org) != district_of(case.org):
            raise Invalid("请选择本区内的街道（镇）或社区", {"org": "不在本区，或不是街道/社区"})
        result = act(
            case.pk,
            user,
            ActRequest(
                action="relocate",
                comment=f"属地确定为：{org.name}（{org.code}）",
                data={"place_org": org.code},
            ),
            now=now,
        )
        Case.objects.filter(pk=case.pk).update(org=org, org_path=org.path, **org.jurisdiction())
        result.org, result.org_path = org, org.path
        for k, v in org.jurisdiction().items():
            setattr(result, k, v)
    return result


# -- 转人民调解 --------------------------------------------------------------------------------

MEDIATION = "dispute_mediation"


def mediation_of(case: Case) -> Case | None:
    """The mediation case a request was referred to (its child), if any."""
    return case.spawned.filter(matter_code=MEDIATION).order_by("pk").first()


def request_of(mediation: Case) -> Case | None:
    """The other way round: the request a mediation case was referred from, if any."""
    if mediation.matter_code != MEDIATION or not mediation.parent_id:
        return None
    return Case.objects.filter(pk=mediation.parent_id, matter_code=MATTER).first()


def refer_mediation(
    case_id: int,
    user,
    *,
    comment: str,
    dispute_type: str,
    parties: list[Mapping[str, Any]],
    mediation_request: str,
    consent: bool,
    org_code: str | None = None,
    now: datetime | None = None,
) -> tuple[Case, Case]:
    """Turn a dispute request into a people's mediation case (矛盾纠纷调解).

    The referring worker supplies what the mediator needs and the request lacks; the
    request's `refer_mediation` action records it on the request's chain and the catalog's
    spawn rule opens the `dispute_mediation` case with `parent` = the request, in one
    transaction — the mediation case passes its own matter's full validation or nothing
    changes. A request not yet placed in a street is first placed (`org_code`), since
    mediation committees sit in streets."""
    now = now or timezone.now()
    with transaction.atomic():
        case = get_request(case_id, user)
        if not case.data.get("located"):
            if not org_code:
                raise Invalid(
                    "请先确定诉求所在的街道（镇），调解由街道（镇）人民调解委员会受理",
                    {"org": "请选择街道（镇）或社区"},
                )
            relocate(case.pk, user, org_code, now=now)
        result = act(
            case.pk,
            user,
            ActRequest(
                action="refer_mediation",
                comment=comment,
                data={
                    "dispute_type": dispute_type,
                    "parties": list(parties),
                    "mediation_request": mediation_request,
                    "mediation_consent": bool(consent),
                },
            ),
            now=now,
        )
        child = mediation_of(result)
        if child is None:  # the catalog lost its spawn rule: never a half-done referral
            raise Invalid("事项目录中没有转人民调解的规则，无法生成调解办件")
    return result, child
