"""The certificate as a PDF: issuing body, printable details, validity texts, font.

Split from tongban.services.certificates (which re-exports every name); see its docstring."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings

from tongban.documents import pdf as pdf_doc
from tongban.engine.schema import MatterSpec
from tongban.services import catalog
from tongban.services.certificates_signing import TZ, qr_text, sign, verify_url
from tongban.services.errors import Unavailable
from tongban.store.models import Case, Certificate, Org

log = logging.getLogger("tongban.certificates")


# --- the PDF --------------------------------------------------------------------------------


def _issuer(case: Case, spec: MatterSpec) -> str:
    """The issuing body: the case's ancestor org at the matter's body level + department."""
    codes = [c for c in case.org_path.split("/") if c]
    name = (
        Org.objects.filter(code__in=codes, level=spec.body.level)
        .values_list("name", flat=True)
        .first()
    ) or ""
    department = spec.body.department
    return department if department.startswith(name) else f"{name}{department}"


def _local_date(value: datetime | None) -> str:
    return value.astimezone(TZ).date().isoformat() if value else ""


def validity_texts(cert: Certificate) -> tuple[str, str]:
    """(from, to) as printed: dates, or to the minute when the validity has times."""
    return (
        pdf_doc.instant_text(cert.valid_from, cert.validity_timed),
        pdf_doc.instant_text(cert.valid_to, cert.validity_timed),
    )


def _printable(spec: MatterSpec, details: dict) -> tuple[dict, dict[str, str]]:
    """The details as printed, and labels for their keys: table rows by column label, and
    personal data (identity card numbers, phones, fields marked `personal`) masked as in
    lists — a certificate is shown to whoever checks it, and photographed."""
    from tongban.services.privacy import mask  # privacy → cases → outputs → here

    def shown(f, value):
        return mask(f, value) if f.is_personal and value not in (None, "") else value

    fields = {f.key: f for f in spec.fields}
    out = {}
    for key, value in details.items():
        f = fields.get(key)
        if f is not None and f.type == "table" and isinstance(value, list):
            value = [
                {
                    sub.label: shown(sub, row[sub.key])
                    for sub in f.fields
                    if isinstance(row, dict) and row.get(sub.key) not in (None, "")
                }
                for row in value
            ]
        elif f is not None:
            value = shown(f, value)
        out[key] = value
    return out, {k: f.label for k, f in fields.items()}


def _ensure_signed(cert: Certificate) -> None:
    """Certificates issued before signing was switched on are signed on first use."""
    if cert.signature and cert.key_id:
        return
    sign(cert)
    Certificate.objects.filter(pk=cert.pk, signature="").update(
        signature=cert.signature, key_id=cert.key_id
    )
    log.info("certificate %s signed after issue with key %s", cert.number, cert.key_id)


def font_path() -> str:
    return str(getattr(settings, "TONGBAN_CJK_FONT", "") or pdf_doc.DEFAULT_FONT)


def pdf_bytes(cert: Certificate) -> bytes:
    """The certificate as a one-page A4 PDF; its QR code is the verification address
    carrying the signed payload."""
    from urllib.parse import unquote

    _ensure_signed(cert)
    spec = catalog.spec_of(cert.case.matter)
    fields = {f.key: f for f in spec.fields}
    details, labels = _printable(spec, dict(cert.details or {}))
    valid_from, valid_to = validity_texts(cert)
    doc = pdf_doc.CertificateDoc(
        name=cert.name,
        number=cert.number,
        holder=cert.holder,
        grants=cert.grants,
        issuer=_issuer(cert.case, spec),
        issued_on=_local_date(cert.issued_at),
        valid_from=valid_from,
        valid_to=valid_to,
        details=details,
        labels=labels,
        units={k: f.unit for k, f in fields.items() if f.unit},
        qr_payload=qr_text(cert),
        verify_path=unquote(verify_url(cert.number)),  # readable (and typeable) on paper
        key_id=cert.key_id,
        issued_at=cert.issued_at,
    )
    try:
        return pdf_doc.render(doc, font_path())
    except pdf_doc.FontMissing as exc:
        raise Unavailable(str(exc), code="font_missing") from None
