"""诉求 pages, part one: what every request page shares (roles, org and department choices),
the resident form, the public status lookup by query code, and the hotline operator screen
(similar open requests shown while typing, HTMX). The handlers' pages are in
requests_handling, the routing table and the dashboard in requests_admin."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tongban.services import catalog, duplicates, requests, timeline
from tongban.services.errors import ServiceError
from tongban.store.models import Case, Membership, Org, RequestLink
from tongban.web import formdata, uploads
from tongban.web.views.common import service_page

MATTER = requests.MATTER
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
