"""Portal for residents and enterprises: find a matter, apply, follow the case, rate it."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.services import cases, catalog, portal, timeline
from tongban.services.errors import ServiceError
from tongban.store.models import Case
from tongban.web import formdata, uploads
from tongban.web.views.common import service_page
from tongban.web.views.reports_documents import case_documents


def _specs():
    """Matters shown in the public catalogue."""
    return [s for s in (catalog.spec_of(v) for v in catalog.current_versions()) if s.portal]


def home(request):
    specs = _specs()
    recent = []
    if request.user.is_authenticated:
        recent = Case.objects.filter(applicant=request.user).select_related("matter")[:5]
    categories = sorted({s.category for s in specs})
    return render(request, "portal/home.html", {"categories": categories, "recent": recent})


def matters(request):
    q = request.GET.get("q", "").strip()[:50]
    category = request.GET.get("category", "")
    specs = _specs()
    if category:
        specs = [s for s in specs if s.category == category]
    if q:
        specs = [
            s
            for s in specs
            if q in s.name or q in (s.description or "") or any(q in k for k in s.keywords)
        ]
    bundle_specs = [catalog.spec_of(v) for v in catalog.current_versions("bundle")]
    if q:
        bundle_specs = [b for b in bundle_specs if q in b.name or any(q in k for k in b.keywords)]
    if category and category != "一件事":
        bundle_specs = []
    categories = sorted({s.category for s in _specs()} | ({"一件事"} if bundle_specs else set()))
    return render(
        request,
        "portal/matters.html",
        {
            "specs": specs,
            "bundles": bundle_specs,
            "q": q,
            "category": category,
            "categories": categories,
        },
    )


@service_page
def matter(request, code):
    spec = catalog.spec_of(catalog.current_version(code))
    return render(request, "portal/matter.html", {"spec": spec})


def _form_context(spec, values, errors, refs, file_errors, idempotency_key=""):
    # One key per filled-in form: a double tap, a resend after a lost answer or a re-render
    # after an error submits the same case, never a second one.
    return {
        "idempotency_key": idempotency_key or uuid.uuid4().hex,
        "spec": spec,
        "fields": formdata.describe(spec.fields, values, errors),
        "materials": uploads.describe(spec.materials, refs, file_errors),
        "errors": errors or file_errors,
    }


@login_required
@service_page
def apply(request, code):
    version = catalog.current_version(code)
    spec = catalog.spec_of(version)
    if request.method == "GET":
        draft = portal.get_draft(request.user, code)
        values, refs = (draft.data, draft.materials) if draft else ({}, {})
        ctx = _form_context(spec, values, {}, refs, {})
        ctx["draft"] = draft
        return render(request, "portal/apply.html", ctx)
    raw = formdata.read(spec.fields, request.POST)
    key = request.POST.get("idempotency_key", "")[:100]
    refs, file_errors = uploads.read(request, spec.materials)
    if request.POST.get("intent") == "draft":
        portal.save_draft(request.user, code, raw, refs)
        messages.success(request, "草稿已保存，可以稍后继续填写")
        return redirect("apply", code=code)
    if not file_errors:
        try:
            case = cases.submit(
                code,
                request.user,
                raw,
                materials=refs,
                idempotency_key=key or None,
                org_code=request.POST.get("org") or None,
            )
        except ServiceError as exc:
            field_errors = {k: v for k, v in exc.fields.items() if spec.field(k)}
            file_errors = {k: v for k, v in exc.fields.items() if k not in field_errors}
            ctx = _form_context(spec, raw, field_errors, refs, file_errors, key)
            ctx["message"] = exc.message
            return render(request, "portal/apply.html", ctx, status=400)
        portal.drop_draft(request.user, code)
        messages.success(request, f"已提交，办件编号 {case.pk}")
        return redirect("my_case", case_id=case.pk)
    ctx = _form_context(spec, raw, {}, refs, file_errors, key)
    ctx["message"] = "材料有误，请按提示修改"
    return render(request, "portal/apply.html", ctx, status=400)


@login_required
def my_cases(request):
    mine = (
        Case.objects.filter(applicant=request.user)
        .select_related("matter")
        .order_by("-submitted_at")[:200]
    )
    rows = [{"case": c, "label": timeline.state_label(c)} for c in mine]
    from tongban.web.views.bundles import my_bundles

    return render(
        request, "portal/my_cases.html", {"rows": rows, "bundles": my_bundles(request.user)[:50]}
    )


@login_required
@service_page
def my_case(request, case_id):
    case = cases.get_case(case_id, request.user)
    if case.applicant_id != request.user.pk and case.created_by_id != request.user.pk:
        return redirect("work_case", case_id=case.pk)
    return render(request, "portal/my_case.html", _case_context(request, case))


def _case_context(request, case, values=None, errors=None, message=""):
    from tongban.services.privacy import rows

    spec = catalog.spec_of(case.matter)
    allowed = cases.allowed_actions(case, request.user)
    editing = [a for a in allowed if spec.workflow.actions[a].edits]
    return {
        "case": case,
        "spec": spec,
        "state": spec.state(case.state),
        "rows": rows(spec, case.data, reveal_all=True),
        "events": timeline.events(case),
        "actions": [(a, spec.workflow.actions[a]) for a in allowed if a not in editing],
        "edit_actions": [(a, spec.workflow.actions[a]) for a in editing],
        "edit_fields": formdata.describe(spec.fields, values or case.data, errors or {}),
        "materials": uploads.describe(spec.materials, case.materials, errors or {}),
        "certificates": case.certificates.all(),
        "documents": case_documents(case),
        "rating": getattr(case, "rating", None) if hasattr(case, "rating") else None,
        "can_rate": not case.is_open and case.outcome != "withdrawn",
        "levels": portal.RATING_LABELS.items(),
        "message": message,
        "followups": _followups(case, spec),
    }


def _followups(case, spec):
    """Report forms for the periods now open, and the reports filed so far."""
    out = []
    for fu in spec.outputs.followups:
        if case.state not in fu.while_in:
            continue
        from tongban.services.followups import current_period

        index, begin, end = current_period(case, fu.key)
        filed = case.reports.filter(key=fu.key, period=index, missed=False).exists()
        out.append(
            {
                "spec": fu,
                "period": index + 1,
                "due": end,
                "filed": filed,
                "fields": formdata.describe(fu.fields, {}, {}, f"r-{fu.key}-"),
            }
        )
    return out


@login_required
@require_POST
@service_page
def my_case_act(request, case_id, action):
    case = cases.get_case(case_id, request.user)
    spec = catalog.spec_of(case.matter)
    act = spec.workflow.actions.get(action)
    data, refs = {}, None
    if act is not None and act.edits:
        data = formdata.read(spec.fields, request.POST)
        refs, file_errors = uploads.read(request, spec.materials)
        if file_errors:
            ctx = _case_context(request, case, data, file_errors, "材料有误，请按提示修改")
            return render(request, "portal/my_case.html", ctx, status=400)
    req = cases.ActRequest(
        action=action,
        comment=request.POST.get("comment", ""),
        data=data,
        materials=refs or None,
        expected_version=_int(request.POST.get("version")),
    )
    try:
        cases.act(case.pk, request.user, req)
    except ServiceError as exc:
        ctx = _case_context(request, case, data, exc.fields, exc.message)
        return render(request, "portal/my_case.html", ctx, status=exc.status)
    messages.success(request, f"已{act.label if act else action}")
    return redirect("my_case", case_id=case.pk)


@login_required
@require_POST
@service_page
def report(request, case_id, key):
    from tongban.services.followups import submit_report

    case = cases.get_case(case_id, request.user)
    spec = catalog.spec_of(case.matter)
    fu = next((f for f in spec.outputs.followups if f.key == key), None)
    raw = formdata.read(fu.fields, request.POST, f"r-{key}-") if fu else {}
    try:
        submit_report(case.pk, request.user, key, raw)
    except ServiceError as exc:
        messages.error(
            request, exc.message + ("：" + "；".join(exc.fields.values()) if exc.fields else "")
        )
    else:
        messages.success(request, f"已提交{fu.name}")
    return redirect("my_case", case_id=case.pk)


@login_required
@require_POST
@service_page
def rate(request, case_id):
    try:
        rating = portal.rate(
            case_id, request.user, request.POST.get("level"), request.POST.get("comment", "")
        )
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise  # another person's case answers like a missing one (service_page: 404)
        messages.error(request, exc.message)
    else:
        note = "，我们已安排整改并会向您反馈" if rating.rectification_id else ""
        messages.success(request, f"感谢您的评价{note}")
    return redirect("my_case", case_id=case_id)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
