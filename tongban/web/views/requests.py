"""诉求 pages: the resident form, the hotline operator screen (similar open requests shown
while typing, HTMX), the request queue with dispatching, the request page for handlers
(me-too repeats, merge / split, placing it in a street, referral to mediation), the public
status lookup by query code, the routing table (xlsx export / import) and the dashboard."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from tongban.services import (
    cases,
    catalog,
    duplicates,
    privacy,
    requests,
    stats,
    timeline,
    worklist,
)
from tongban.services.errors import Invalid, ServiceError
from tongban.services.reports import requests as report
from tongban.store.models import Case, Membership, Org, RequestLink, RoutingRule
from tongban.web import formdata, uploads
from tongban.web.views.common import service_page

MATTER = requests.MATTER
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 50
RULE_EDITORS = ("supervisor",)
RULE_VIEWERS = ("supervisor", "head", "dispatcher")
PHONE_HISTORY_DAYS = 90


def _roles(user) -> set[str]:
    return set(Membership.objects.filter(user_id=user.pk).values_list("role", flat=True))


DEPARTMENTS = "@departments"  # the request matter's department roles, read when called


def roles_required(*roles: str, staff_ok: bool = False):
    """Logged in and holding one of `roles` somewhere (or Django staff, when allowed)."""

    def wrap(view):
        @login_required
        @wraps(view)
        def inner(request, *args, **kwargs):
            wanted = set(roles)
            if DEPARTMENTS in wanted:
                wanted |= set(requests.department_options())
            if not (_roles(request.user) & wanted or (staff_ok and request.user.is_staff)):
                raise PermissionDenied("您没有使用这个页面的角色")
            return view(request, *args, **kwargs)

        return inner

    return wrap


def _spec():
    return catalog.spec_of(catalog.current_version(MATTER))


def _district_codes(user, roles=("dispatcher",)) -> list[str]:
    paths = Membership.objects.filter(user_id=user.pk, role__in=roles).values_list(
        "org__path", flat=True
    )
    return sorted({p.split("/")[0] for p in paths})


def _org_choices(districts: list[str]) -> list[dict]:
    """Streets and communities of the user's districts, in tree order, for a select."""
    q = Q(pk__in=[])
    for code in districts:
        q |= Q(code=code) | Q(path__startswith=code + "/")
    rows = Org.objects.filter(q).exclude(level="grid").order_by("path")
    return [
        {"code": o.code, "name": o.name, "indent": "\u3000" * o.path.count("/")}
        for o in rows.only("code", "name", "path")[:500]
    ]


def _department_choices() -> list[tuple[str, str]]:
    labels = catalog.role_labels()
    return [(d, labels.get(d, d)) for d in requests.department_options()]


# -- the resident form -------------------------------------------------------------------

RESIDENT_FIELDS = (
    "request_type",
    "content",
    "address",
    "position",
    "anonymous",
    "contact_name",
    "contact_phone",
)


def _resident_context(spec, values, errors, refs, file_errors, message=""):
    fields = {
        item["spec"].key: item
        for item in formdata.describe(spec.fields, values, errors)
        if item["spec"].key in RESIDENT_FIELDS
    }
    areas = [
        {"code": code, "name": name, "box": requests.areas()[code]}
        for code, name in Org.objects.filter(code__in=list(requests.areas()))
        .order_by("code")
        .values_list("code", "name")
    ]
    return {
        "spec": spec,
        "f": fields,
        "materials": uploads.describe(spec.materials, refs, file_errors),
        "errors": {**errors, **file_errors},
        "message": message,
        "areas": areas,
        "idempotency_key": uuid.uuid4().hex,
    }


@login_required
@service_page
def new(request):
    """网上留言: text, photos, a place picked on the map or typed; anonymous allowed."""
    spec = _spec()
    if request.method == "GET":
        profile = getattr(request.user, "profile", None)
        values = {
            "request_type": "求助",
            "contact_name": (profile.display_name if profile else "") or "",
        }
        return render(request, "requests/new.html", _resident_context(spec, values, {}, {}, {}))
    fields = tuple(f for f in spec.fields if f.key in RESIDENT_FIELDS)
    raw = formdata.read(fields, request.POST)
    refs, file_errors = uploads.read(request, spec.materials)
    if file_errors:
        ctx = _resident_context(spec, raw, {}, refs, file_errors, "照片有误，请按提示修改")
        return render(request, "requests/new.html", ctx, status=400)
    try:
        case = requests.intake(
            request.user,
            raw,
            channel="web",
            materials=refs,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except ServiceError as exc:
        errors = {("position" if k == "org" else k): v for k, v in exc.fields.items()}
        ctx = _resident_context(spec, raw, errors, refs, {}, exc.message)
        return render(request, "requests/new.html", ctx, status=exc.status)
    messages.success(
        request,
        f"诉求已提交，编号 {case.pk}，查询码 {requests.token_of(case)}（电话或网上查询进度时使用）",
    )
    return redirect("my_case", case_id=case.pk)


# -- public status lookup by query code ------------------------------------------------------


@require_GET
def track(request):
    """查询进度: a query code shows where a request stands, without anyone's personal data."""
    token = request.GET.get("token", "").strip()[:16]
    ctx: dict = {"token": token}
    if token:
        case = requests.case_for_token(token)
        if case is None:
            ctx["error"] = "没有这个查询码，请核对后再试"
            return render(request, "requests/track.html", ctx, status=404)
        spec = catalog.spec_of(case.matter)
        labels = catalog.role_labels()
        ctx.update(
            case=case,
            state=spec.state(case.state),
            department=labels.get(case.data.get("department") or "", ""),
            events=[e for e in timeline.events(case) if e["kind"] in ("submitted", "moved")],
        )
    return render(request, "requests/track.html", ctx)


# -- hotline operator screen -------------------------------------------------------------------


def _hotline_context(request, values=None, errors=None, message=""):
    districts = _district_codes(request.user)
    return {
        "v": values or {"request_type": "求助"},
        "errors": errors or {},
        "message": message,
        "types": _spec().field("request_type").options,
        "categories": requests.category_options(),
        "orgs": _org_choices(districts),
        "idempotency_key": uuid.uuid4().hex,
    }


@roles_required("dispatcher")
@service_page
def hotline(request):
    """12345 话务: caller number, fast text entry; the request is registered (and routed)
    at once, the screen comes back empty for the next call."""
    if request.method == "GET":
        return render(request, "requests/hotline.html", _hotline_context(request))
    p = request.POST
    values = {k: p.get(k, "").strip() for k in ("request_type", "content", "address", "org")}
    values.update(
        caller=p.get("caller", "").strip(),
        caller_name=p.get("caller_name", "").strip(),
        anonymous=p.get("anonymous") == "on",
        category=p.get("category", "").strip(),
    )
    raw = {
        "request_type": values["request_type"],
        "content": p.get("content", ""),
        "address": values["address"],
        "contact_phone": values["caller"],
        "contact_name": values["caller_name"],
        "anonymous": values["anonymous"],
    }
    districts = _district_codes(request.user)
    org_code = values["org"] or (districts[0] if districts else None)
    try:
        case = requests.intake(
            request.user,
            raw,
            channel="hotline",
            org_code=org_code,
            idempotency_key=p.get("idempotency_key") or None,
            category=values["category"] or None,
        )
    except ServiceError as exc:
        errors = dict(exc.fields)
        if "contact_phone" in errors:
            errors["caller"] = errors.pop("contact_phone")
        ctx = _hotline_context(request, values, errors, exc.message)
        return render(request, "requests/hotline.html", ctx, status=exc.status)
    label = catalog.spec_of(case.matter).state(case.state).label
    link = RequestLink.objects.filter(request=case).first()
    note = f"，疑似与诉求 {link.original_id} 重复" if link else ""
    messages.success(
        request,
        f"已登记诉求 {case.pk}（{label}{note}），查询码 {requests.token_of(case)}，请告知来电人",
    )
    return redirect("requests:hotline")


@roles_required("dispatcher")
def hotline_similar(request):
    """The HTMX panel beside the operator's text: similar open requests, and this caller's
    recent requests."""
    p = request.POST if request.method == "POST" else request.GET
    text = p.get("content", "")[:2000]
    districts = _district_codes(request.user)
    rows = duplicates.similar(text, districts, address=p.get("address", "")[:120])
    caller = p.get("caller", "").strip()
    history = []
    if len(caller) >= 7:
        since = timezone.now() - timedelta(days=PHONE_HISTORY_DAYS)
        history = list(
            Case.objects.filter(
                matter_code=MATTER,
                j_district__in=districts,
                data__contact_phone=caller,
                submitted_at__gte=since,
            ).order_by("-submitted_at")[:5]
        )
    spec = _spec()
    for r in rows:
        r["label"] = spec.state(r["case"].state).label
    return render(
        request,
        "requests/_similar.html",
        {
            "rows": rows,
            "history": [(c, spec.state(c.state).label) for c in history],
            "typed": bool(text.strip()),
        },
    )


# -- the queue: requests waiting for me -------------------------------------------------------


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
    p = request.POST
    try:
        org = p.get("org", "").strip()
        case = cases.get_case(case_id, request.user)
        if org and org != case.org.code:
            requests.relocate(case.pk, request.user, org)
        case = requests.dispatch(
            case.pk, request.user, p.get("category", "").strip(), p.get("department") or None
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        detail = "；".join(exc.fields.values())
        messages.error(request, f"诉求 {case_id}：{exc.message}{'：' + detail if detail else ''}")
    else:
        labels = catalog.role_labels()
        department = labels.get(case.data.get("department"), case.data.get("department"))
        messages.success(request, f"诉求 {case.pk} 已派往 {department}")
    return redirect(reverse("requests:queue") + _keep(p))


def _keep(p) -> str:
    state = p.get("state", "").strip()
    return "?" + urlencode({"state": state}) if state else ""


# -- the request page for handlers --------------------------------------------------------------

REFERRAL_FIELDS = ("dispute_type", "parties", "mediation_request", "mediation_consent")
REFERRABLE = ("dispatched", "handling", "rehandling")
RELOCATABLE = ("registered", *REFERRABLE)


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
    if exc.status == 404:
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
    case = cases.get_case(case_id, request.user)
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
        if exc.status == 404:
            raise
        ctx = _detail_context(request, case, referral=raw, errors=exc.fields, message=exc.message)
        return render(request, "requests/detail.html", ctx, status=exc.status)
    messages.success(request, f"已转人民调解，调解办件编号 {mediation.pk}")
    return _back(case.pk)


# -- the routing table ------------------------------------------------------------------------


@roles_required(*RULE_VIEWERS, staff_ok=True)
def routing(request):
    editor = request.user.is_staff or bool(_roles(request.user) & set(RULE_EDITORS))
    errors, message, status = {}, "", 200
    if request.method == "POST":
        if not editor:
            raise PermissionDenied("只有督办员或管理员可以修改派单规则")
        p = request.POST
        try:
            if p.get("delete"):
                requests.delete_rule(int(p["delete"]))
                messages.success(request, "已删除派单规则")
            elif p.get("intent") == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    raise Invalid("请选择要导入的 xlsx 文件", {"file": "必选"})
                n = requests.import_rules(upload.read(requests.MAX_IMPORT_BYTES + 1))
                messages.success(request, f"已导入 {n} 条派单规则（原有规则已替换）")
            else:
                requests.save_rule(
                    request.user,
                    p.get("category", ""),
                    p.get("org", ""),
                    p.get("department", ""),
                    p.get("note", ""),
                )
                messages.success(request, "已保存派单规则")
        except (ServiceError, ValueError) as exc:
            message = getattr(exc, "message", "输入有误")
            errors = getattr(exc, "fields", {})
            status = getattr(exc, "status", 400)
        else:
            return redirect("requests:routing")
    labels = dict(_department_choices())
    rules = [
        {"rule": r, "department": labels.get(r.department, r.department)}
        for r in RoutingRule.objects.select_related("org").order_by("category", "org__path")
    ]
    ctx = {
        "rules": rules,
        "editor": editor,
        "categories": requests.category_options(),
        "departments": _department_choices(),
        "errors": errors,
        "message": message,
    }
    return render(request, "requests/routing.html", ctx, status=status)


@roles_required(*RULE_VIEWERS, staff_ok=True)
@require_GET
def routing_export(request):
    response = HttpResponse(requests.export_rules(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "派单规则.xlsx")
    return response


# -- dashboard ----------------------------------------------------------------------------------


def _pct(value):
    return "—" if value is None else f"{value * 100:.1f}%"


@login_required
@require_GET
@service_page
def dashboard(request):
    if not report.may_view(request.user):
        raise PermissionDenied(report.NO_SCOPE)
    scope = report.scope_for(request.user, request.GET.get("org"))
    f = {
        "from": request.GET.get("from", "").strip(),
        "to": request.GET.get("to", "").strip(),
        "org": scope.org.code if scope.org else "",
    }
    choices = [{**o, "indent": "\u3000" * o["depth"]} for o in stats.org_choices(scope)]
    ctx = {"f": f, "org_choices": choices, "scope": scope}
    try:
        period = stats.period(f["from"], f["to"])
    except Invalid as exc:
        ctx.update(error=exc.message, errors=exc.fields)
        return render(request, "requests/dashboard.html", ctx, status=400)
    d = report.dashboard(scope, period)
    f.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    ctx.update(
        d=d,
        period=period,
        response_pct=_pct(d.response["rate"]),
        resolution_pct=_pct(d.resolution["rate"]),
        satisfaction_pct=_pct(d.satisfaction["rate"]),
        levels=[(x, d.satisfaction["levels"].get(x, 0)) for x in report.LEVELS],
        data=d.chart_data(),
    )
    return render(request, "requests/dashboard.html", ctx)
