"""Staff workbench: worklists, the case page, actions, window registration, bulk accept."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.services import cases, catalog, certificates, privacy, timeline, worklist
from tongban.services.errors import Invalid, NotFound, ServiceError
from tongban.store.models import Membership
from tongban.web import formdata, uploads
from tongban.web.views.common import client_ip, service_page
from tongban.web.views.reports_documents import case_documents

PAGE = 50


def staff_required(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not Membership.objects.filter(user_id=request.user.pk).exists():
            raise PermissionDenied("只有工作人员可以使用工作台")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


@staff_required
def worklist_view(request):
    tab = request.GET.get("tab", "todo")
    if tab not in worklist.TABS:
        tab = "todo"
    matter = request.GET.get("matter") or None
    state = request.GET.get("state") or None
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    qs = worklist.worklist(request.user, tab, matter=matter, state=state)
    items = list(qs[(page - 1) * PAGE : page * PAGE + 1])
    specs = {v.code: catalog.spec_of(v) for v in catalog.current_versions()}
    rows = [
        {"case": c, "label": catalog.spec_of(c.matter).state(c.state).label} for c in items[:PAGE]
    ]
    return render(
        request,
        "work/worklist.html",
        {
            "tab": tab,
            "tabs": worklist.TABS,
            "counts": worklist.counts(request.user),
            "rows": rows,
            "page": page,
            "has_next": len(items) > PAGE,
            "matter": matter or "",
            "state": state or "",
            "specs": specs,
        },
    )


def _context(request, case, errors=None, message="", status_action=None):
    spec = catalog.spec_of(case.matter)
    allowed = cases.allowed_actions(case, request.user)
    actions = []
    for name in allowed:
        a = spec.workflow.actions[name]
        targets = [
            (s, spec.state(s).label)
            for s in (a.back_to or ())
            if s in case.visited and s != case.state
        ]
        actions.append(
            {
                "name": name,
                "spec": a,
                "inputs": formdata.describe(
                    a.inputs, {}, (errors or {}) if name == status_action else {}, "i-"
                ),
                "targets": targets,
            }
        )
    transfer_to = []
    if any(a["spec"].kind == "transfer" for a in actions):
        st = spec.state(case.state)
        transfer_to = list(
            get_user_model()
            .objects.filter(memberships__role=st.role)
            .exclude(pk=request.user.pk)
            .distinct()
            .order_by("username")[:50]
        )
    sign = spec.state(case.state).sign
    return {
        "case": case,
        "spec": spec,
        "state": spec.state(case.state),
        "rows": privacy.rows(spec, case.data, reveal_all=False),
        "materials": [
            (m, case.materials.get(m.key, [])) for m in spec.materials if case.materials.get(m.key)
        ],
        "events": timeline.events(case),
        "actions": actions,
        "transfer_to": transfer_to,
        "sign": sign,
        "signed": {r for r, _ in case.signatures},
        "certificates": [
            # May this user revoke it? Only the issuing role(s) and the head of the body.
            (c, c.revoked_at is None and certificates.may_revoke(c, request.user))
            for c in case.certificates.select_related("case__matter").order_by("issued_at", "pk")
        ],
        "documents": case_documents(case),
        "related": timeline.related(case, request.user),
        "errors": errors or {},
        "message": message,
    }


@staff_required
@service_page
def case_view(request, case_id):
    case = cases.get_case(case_id, request.user)
    return render(request, "work/case.html", _context(request, case))


@staff_required
@require_POST
@service_page
def act_view(request, case_id, action):
    case = cases.get_case(case_id, request.user)
    spec = catalog.spec_of(case.matter)
    a = spec.workflow.actions.get(action)
    inputs = formdata.read(a.inputs, request.POST, "i-") if a else {}
    extension = None
    if a is not None and a.kind == "extend" and request.POST.get("extension"):
        extension = {a.max_extension.unit: request.POST.get("extension")}
    req = cases.ActRequest(
        action=action,
        comment=request.POST.get("comment", ""),
        data=inputs,
        target=request.POST.get("target") or None,
        assignee_id=_int(request.POST.get("assignee")),
        extension=extension,
        expected_version=_int(request.POST.get("version")),
    )
    try:
        cases.act(case.pk, request.user, req)
    except ServiceError as exc:
        case.refresh_from_db()
        ctx = _context(request, case, exc.fields, exc.message, action)
        return render(request, "work/case.html", ctx, status=exc.status)
    messages.success(request, f"办件 {case.pk}：已{a.label if a else action}")
    return redirect("worklist")


@staff_required
@require_POST
@service_page
def revoke_view(request, case_id, number):
    """Revoke a certificate of this case (reason required, confirmed); audited as an event."""
    case = cases.get_case(case_id, request.user)
    if not case.certificates.filter(number=number).exists():
        raise NotFound("证照不存在")
    try:
        if request.POST.get("confirm") != "1":
            raise Invalid("请勾选「确认撤销」", {"confirm": "请勾选确认"})
        cert = certificates.revoke(number, request.POST.get("reason", ""), request.user)
    except ServiceError as exc:
        ctx = _context(request, case, exc.fields, f"证照 {number} 未撤销：{exc.message}")
        ctx.update(revoke_number=number, revoke_reason=request.POST.get("reason", ""))
        return render(request, "work/case.html", ctx, status=exc.status)
    messages.success(request, f"已撤销证照 {cert.number}（理由：{cert.revoke_reason}）")
    return redirect("work_case", case_id=case.pk)


@staff_required
@require_POST
@service_page
def reveal_view(request, case_id):
    value = privacy.reveal(case_id, request.user, request.POST.get("field", ""), client_ip(request))
    return HttpResponse(value, content_type="text/plain; charset=utf-8")


@staff_required
@require_POST
def bulk_accept(request):
    ids = request.POST.getlist("case")[:200]
    action = request.POST.get("action", "accept")
    done, failed = 0, []
    for raw in ids:
        try:
            cases.act(int(raw), request.user, cases.ActRequest(action=action))
            done += 1
        except (ServiceError, ValueError) as exc:
            failed.append(f"{raw}：{getattr(exc, 'message', '编号无效')}")
    if done:
        messages.success(request, f"已批量受理 {done} 件")
    for f in failed[:10]:
        messages.error(request, f)
    return redirect("worklist")


@staff_required
@service_page
def register(request, code=None):
    """窗口代办: a clerk files a case for a walk-in or phone caller."""
    if code is None:
        specs = [catalog.spec_of(v) for v in catalog.current_versions()]
        return render(
            request, "work/register_pick.html", {"specs": [s for s in specs if s.staff_may_file]}
        )
    spec = catalog.spec_of(catalog.current_version(code))
    User = get_user_model()
    ctx = {"spec": spec, "for_user": request.POST.get("for_user", request.GET.get("for_user", ""))}
    if request.method == "GET":
        ctx.update(
            fields=formdata.describe(spec.fields, {}, {}),
            materials=uploads.describe(spec.materials, {}, {}),
        )
        return render(request, "work/register.html", ctx)
    raw = formdata.read(spec.fields, request.POST)
    refs, file_errors = uploads.read(request, spec.materials)
    applicant = User.objects.filter(username=ctx["for_user"].strip()).first()
    errors = dict(file_errors)
    if applicant is None:
        errors["for_user"] = "找不到该申请人账号，请核对用户名"
    if not errors:
        try:
            case = cases.submit(
                code,
                request.user,
                raw,
                materials=refs,
                on_behalf_of=applicant,
                org_code=request.POST.get("org") or None,
            )
        except ServiceError as exc:
            errors = exc.fields or {"__all__": exc.message}
            ctx["message"] = exc.message
        else:
            messages.success(request, f"已代为提交，办件编号 {case.pk}")
            return redirect("work_case", case_id=case.pk)
    ctx.update(
        fields=formdata.describe(spec.fields, raw, errors),
        materials=uploads.describe(spec.materials, refs, errors),
        errors=errors,
        message=ctx.get("message") or "填写有误，请按提示修改",
    )
    return render(request, "work/register.html", ctx, status=400)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
