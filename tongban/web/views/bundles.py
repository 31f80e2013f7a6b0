"""Bundles in the portal: the merged form and the one status page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from tongban.services import bundles, catalog
from tongban.services.errors import ServiceError
from tongban.store.models import Bundle
from tongban.web import formdata, uploads
from tongban.web.views.common import service_page


@service_page
def bundle(request, code):
    spec, form, matters = bundles.spec_and_form(code)
    items = [(i, matters[i.matter]) for i in spec.items]
    separate_materials = sum(len(m.materials) for _, m in items)
    return render(
        request,
        "portal/bundle.html",
        {
            "spec": spec,
            "form": form,
            "items": items,
            "separate_materials": separate_materials,
        },
    )


@login_required
@service_page
def apply(request, code):
    spec, form, _ = bundles.spec_and_form(code)
    if request.method == "GET":
        return render(request, "portal/bundle_apply.html", _ctx(spec, form, {}, {}, {}))
    raw = formdata.read(form.fields, request.POST)
    refs, file_errors = uploads.read(request, form.materials)
    # The key the form was rendered with: a second tap on 一次提交 (or a resend over a
    # slow connection) returns the bundle already made instead of filing it all again.
    key = request.POST.get("idempotency_key", "")[:100]
    if not file_errors:
        try:
            b = bundles.submit(
                code,
                request.user,
                raw,
                materials=refs,
                idempotency_key=key or None,
            )
        except ServiceError as exc:
            ctx = _ctx(spec, form, raw, exc.fields, refs, exc.message, key)
            return render(request, "portal/bundle_apply.html", ctx, status=400)
        messages.success(request, f"已一次提交「{spec.name}」，各事项由相关单位同时办理")
        return redirect("my_bundle", bundle_id=b.pk)
    ctx = _ctx(spec, form, raw, file_errors, refs, "材料有误，请按提示修改", key)
    return render(request, "portal/bundle_apply.html", ctx, status=400)


def _ctx(spec, form, values, errors, refs, message="", idempotency_key=""):
    field_keys = {f.key for f in form.fields}
    fields = formdata.describe(form.fields, values, errors)
    return {
        "spec": spec,
        "idempotency_key": idempotency_key or uuid.uuid4().hex,
        "fields": fields,
        "materials": uploads.describe(
            form.materials, refs, {k: v for k, v in errors.items() if k not in field_keys}
        ),
        "errors": errors,
        "message": message,
    }


@login_required
@service_page
def my_bundle(request, bundle_id):
    b = bundles.get_bundle(bundle_id, request.user)
    spec = catalog.spec_of(b.version)
    rows = bundles.status(b)
    return render(
        request,
        "bundles/my_bundle.html",
        {"bundle": b, "spec": spec, "rows": rows, "entries": bundles.grouped(rows)},
    )


def my_bundles(user):
    return Bundle.objects.filter(applicant=user).select_related("version").order_by("-submitted_at")
