"""Materials and certificates as files: served only after a permission check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from tongban.services import cases, certificates, uploads
from tongban.services.errors import Invalid, NotFound
from tongban.web.views.common import service_page


@login_required
@service_page
def material(request, case_id, sha):
    case = cases.get_case(case_id, request.user)
    files = [f for refs in case.materials.values() for f in refs if f["sha256"] == sha]
    if not files:
        raise NotFound("材料不存在")
    try:
        data, content_type = uploads.open_upload(sha)
    except Invalid:
        raise Http404("材料不存在") from None
    response = HttpResponse(data, content_type=content_type)
    disposition = (
        "inline" if files[0]["type"] in ("pdf", "png", "jpg", "gif", "webp") else "attachment"
    )
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{_quote(files[0]['name'])}"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@login_required
@service_page
def certificate_pdf(request, number):
    cert = certificates.for_user(number, request.user)
    response = HttpResponse(certificates.pdf_bytes(cert), content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(number)}.pdf"
    return response


@require_safe
def verify(request, number):
    """Public: anyone holding a certificate number (or its QR) can check it. The QR code is
    this address with `?sig=` the signed payload; a bare signature is accepted too."""
    status = certificates.public_status(number, request.GET.get("sig", ""))
    return render(request, "portal/verify.html", {"number": number, "status": status})


@require_safe
def verify_lookup(request):
    """Public: paste what a scanner app gave — the QR's address, a `TB1|…` payload (older
    certificates) — or type a certificate number, and be taken to its verify page."""
    if "q" not in request.GET:
        return render(request, "portal/verify_lookup.html", {"q": ""})
    text = request.GET.get("q", "")
    try:
        scan = certificates.read_scan(text)
    except Invalid as exc:
        ctx = {"q": text[: certificates.MAX_SCAN], "error": exc.message}
        return render(request, "portal/verify_lookup.html", ctx, status=400)
    url = reverse("verify", args=[scan.number])
    if scan.payload:
        url += "?sig=" + _quote(scan.payload)
    return redirect(url)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
