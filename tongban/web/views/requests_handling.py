"""诉求 pages, part two, for handlers: the queue (dispatching, and sent-back requests to
re-dispatch or return to their first department), the request page (me-too repeats, merge
/ split, placing it in a street, referral to mediation).

A request the user may not see is missing (404) on every one of these URLs, whatever was
posted; one they see but may not act on is refused (403)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tongban.services import cases, catalog, duplicates, privacy, requests, timeline, worklist
from tongban.services.errors import ServiceError
from tongban.store.models import RequestLink
from tongban.web import formdata
from tongban.web.views.common import service_page
from tongban.web.views.requests import (
    DEPARTMENTS,
    MATTER,
    _department_choices,
    _district_codes,
    _org_choices,
    _roles,
    _spec,
    roles_required,
)

PAGE = 50


@roles_required("dispatcher", DEPARTMENTS)
def queue(request):
    """诉求待办: the requests waiting for the user (dispatchers: to dispatch, call back or
    follow merged ones; departments: to sign for and handle), with the model's suggestion
    and the number of residents who reported the same problem."""
    state = request.GET.get("state", "")
    qs = worklist.worklist(request.user, "todo", matter=MATTER, state=state or None)
    rows = list(qs[: PAGE + 1])
    spec = _spec()
    counts = duplicates.me_too_counts([c.pk for c in rows])
    links = dict(
        RequestLink.objects.filter(
            request_id__in=[c.pk for c in rows],
            status__in=(RequestLink.LINKED, RequestLink.MERGED),
        ).values_list("request_id", "original_id")
    )
    roles = _roles(request.user)
    labels = catalog.role_labels()
    return render(
        request,
        "requests/queue.html",
        {
            "rows": [
                {
                    "case": c,
                    "label": spec.state(c.state).label,
                    "me_too": counts.get(c.pk, 0),
                    "original": links.get(c.pk),
                    "suggestion": c.data.get("category"),
                    "confidence": c.data.get("route_confidence"),
                    "first": labels.get(c.data.get("department") or "", ""),
                    "reason": requests.sent_back_reason(c) if c.state == "sent_back" else "",
                }
                for c in rows[:PAGE]
            ],
            "more": len(rows) > PAGE,
            "state": state,
            "states": [(k, v.label) for k, v in spec.workflow.states.items() if not v.final],
            "categories": requests.category_options(),
            "departments": _department_choices(),
            "orgs": _org_choices(_district_codes(request.user)),
            "dispatcher": "dispatcher" in roles,
        },
    )


@roles_required("dispatcher")
@require_POST
@service_page
def dispatch(request, case_id):
    """派单 from the queue (a new request, or one sent back: to another department, or —
    intent `keep` — back to the first one with the reason why)."""
    p = request.POST
    try:
        if p.get("intent") == "keep":
            case = requests.keep(case_id, request.user, p.get("comment", "").strip())
        else:
            case = requests.dispatch(
                case_id,
                request.user,
                p.get("category", "").strip(),
                p.get("department") or None,
                org_code=p.get("org", "").strip() or None,
            )
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        detail = "；".join(v for v in exc.fields.values() if v)
        messages.error(request, f"诉求 {case_id}：{exc.message}{'：' + detail if detail else ''}")
    else:
        labels = catalog.role_labels()
        department = labels.get(case.data.get("department"), case.data.get("department"))
        messages.success(request, f"诉求 {case.pk} 已派往 {department}")
    return redirect(reverse("requests:queue") + _query(p))


def _query(p) -> str:
    state = p.get("state", "").strip()
    return "?" + urlencode({"state": state}) if state else ""


# -- the request page for handlers --------------------------------------------------------------

REFERRAL_FIELDS = ("dispute_type", "parties", "mediation_request", "mediation_consent")
REFERRABLE = ("dispatched", "handling", "rehandling")
RELOCATABLE = ("registered", "sent_back", *REFERRABLE)


def _referral_fields(spec, values, errors):
    shown = tuple(spec.field(k).model_copy(update={"internal": False}) for k in REFERRAL_FIELDS)
    return formdata.describe(shown, values, errors, "r-")


def _detail_context(request, case, *, referral=None, errors=None, message=""):
    spec = catalog.spec_of(case.matter)
    labels = catalog.role_labels()
    link = (
        RequestLink.objects.select_related("original")
        .filter(request=case)
        .exclude(status=RequestLink.SEPARATE)
        .first()
    )
    me_too = duplicates.me_too(case)
    roles = _roles(request.user)
    holder = case.pending_role in roles and bool(cases.allowed_actions(case, request.user))
    data = case.data
    if referral is None:
        referral = {
            "parties": [
                {
                    "party_role": "申请人",
                    "party_name": data.get("contact_name", ""),
                    "party_phone": data.get("contact_phone", ""),
                },
                {"party_role": "被申请人"},
            ]
        }
    return {
        "case": case,
        "spec": spec,
        "state": spec.state(case.state),
        "data": data,
        "channel": data.get("channel"),
        "department": labels.get(data.get("department") or "", ""),
        "token": requests.token_of(case),
        "link": link,
        "me_too": me_too,
        "me_too_count": sum(1 for x in me_too if x.status != RequestLink.SEPARATE),
        "dispatcher": "dispatcher" in roles,
        "mediation": requests.mediation_of(case),
        "sent_back_reason": requests.sent_back_reason(case) if case.state == "sent_back" else "",
        # Both actions have conditions on what their forms fill in, so allowed_actions
        # leaves them out until then: offer them to whoever holds the request now.
        "may_refer": case.state in REFERRABLE and holder,
        "may_relocate": case.state in RELOCATABLE and holder,
        "referral_fields": _referral_fields(spec, referral, errors or {}),
        "streets": [o for o in _org_choices([case.org_path.split("/")[0]]) if o["indent"]],
        "errors": errors or {},
        "message": message,
        "rows": privacy.rows(spec, data, reveal_all=False),
        "events": timeline.events(case),
    }


@login_required
@service_page
def detail(request, case_id):
    case = cases.get_case(case_id, request.user)
    if case.matter_code != MATTER:
        return redirect("work_case", case_id=case.pk)
    if not _roles(request.user):
        return redirect("my_case", case_id=case.pk)
    return render(request, "requests/detail.html", _detail_context(request, case))


def _back(case_id):
    return redirect("requests:detail", case_id=case_id)


def _fail(request, case_id, exc: ServiceError):
    if exc.status in (403, 404):  # missing or not theirs: no flash that tells more
        raise exc
    detail = "；".join(v for v in exc.fields.values() if v)
    messages.error(request, exc.message + (f"：{detail}" if detail else ""))
    return _back(case_id)


@login_required
@require_POST
@service_page
def merge(request, case_id):
    try:
        duplicates.merge(case_id, request.user)
    except ServiceError as exc:
        return _fail(request, case_id, exc)
    messages.success(request, f"诉求 {case_id} 已并案，将随主件一并答复")
    return _back(case_id)


@login_required
@require_POST
@service_page
def unmerge(request, case_id):
    try:
        duplicates.unmerge(case_id, request.user, request.POST.get("comment", "").strip())
    except ServiceError as exc:
        return _fail(request, case_id, exc)
    messages.success(request, f"诉求 {case_id} 已拆分，单独办理")
    return _back(case_id)


@login_required
@require_POST
@service_page
def relocate(request, case_id):
    try:
        requests.relocate(case_id, request.user, request.POST.get("org", ""))
    except ServiceError as exc:
        return _fail(request, case_id, exc)
    messages.success(request, "属地已确定")
    return _back(case_id)


@login_required
@require_POST
@service_page
def refer(request, case_id):
    """转人民调解: the referral form's answers open a linked mediation case."""
    case = requests.get_request(case_id, request.user)
    spec = catalog.spec_of(case.matter)
    shown = tuple(spec.field(k).model_copy(update={"internal": False}) for k in REFERRAL_FIELDS)
    raw = formdata.read(shown, request.POST, "r-")
    try:
        _, mediation = requests.refer_mediation(
            case.pk,
            request.user,
            comment=request.POST.get("comment", ""),
            dispute_type=raw.get("dispute_type") or "",
            parties=raw.get("parties") or [],
            mediation_request=raw.get("mediation_request") or "",
            consent=bool(raw.get("mediation_consent")),
            org_code=request.POST.get("org") or None,
        )
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        ctx = _detail_context(request, case, referral=raw, errors=exc.fields, message=exc.message)
        return render(request, "requests/detail.html", ctx, status=exc.status)
    messages.success(request, f"已转人民调解，调解办件编号 {mediation.pk}")
    return _back(case.pk)
