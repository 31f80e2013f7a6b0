"""Certificates (电子证照): who may download them, PDF rendering, public verification,
signatures and revocation.

Every certificate is signed when it is issued (`sign`, called by
`outputs.issue_certificate` inside the issuing transaction): Ed25519 over the canonical
payload described in `tongban.documents.signing`. The PDF's QR code is the verification
address `<TONGBAN_PUBLIC_URL>/verify/<number>?sig=<signed payload>` (`qr_text`), so a
phone camera opens the public status page; `tongban cert verify` checks the same text (or
a bare payload, as QR codes printed before held) offline with public keys only.

Revoking is for the body that issued the certificate: whoever holds a role that may take
the workflow action issuing it (read from the matter), or the head of the issuing body,
over the case's org.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.documents import pdf as pdf_doc
from tongban.documents import signing
from tongban.engine.issuing import issuing_roles
from tongban.engine.validators import mask_name
from tongban.engine.workflow import EventDraft
from tongban.services import catalog
from tongban.services.certificates_pdf import (
    _ensure_signed,
    _issuer,
    _local_date,
    _printable,
    font_path,
    pdf_bytes,
    validity_texts,
)
from tongban.services.certificates_signing import (
    MAX_SCAN,
    MAX_SIG,
    TZ,
    VERIFY_PATH,
    Scan,
    _check_sig,
    _keyring,
    _local_day,
    qr_payload,
    qr_text,
    read_scan,
    sign,
    signed_fields,
    verify_offline,
    verify_url,
)
from tongban.services.context import actor_for
from tongban.services.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.services.records import event_rows
from tongban.store.models import Case, Certificate, Event

__all__ = [
    "MAX_SCAN",
    "MAX_SIG",
    "REVOKE_ACTION",
    "REVOKE_ALSO",
    "STATUSES",
    "TZ",
    "VERIFY_PATH",
    "Scan",
    "_bounds",
    "_check_sig",
    "_ensure_signed",
    "_issuer",
    "_keyring",
    "_local_date",
    "_local_day",
    "_printable",
    "_record_status",
    "_status",
    "check_configuration",
    "font_path",
    "for_user",
    "get",
    "may_revoke",
    "pdf_bytes",
    "public_status",
    "qr_payload",
    "qr_text",
    "read_scan",
    "revoke",
    "revokers",
    "sign",
    "signed_fields",
    "status_of",
    "validity_texts",
    "verify_offline",
    "verify_url",
]

log = logging.getLogger("tongban.certificates")

# Besides the roles that issue a certificate (read from its matter): the head of the
# issuing body, at the matter's body level, over the case's org.
REVOKE_ALSO = ("head",)
REVOKE_ACTION = "revoke_certificate"

# Public status: code -> (label on the badge, badge class).
STATUSES = {
    "valid": ("有效", "ok"),
    "not_yet_valid": ("尚未生效", "warn"),
    "expired": ("已过期", "bad"),
    "revoked": ("已撤销", "bad"),
    "not_found": ("不存在", "bad"),
    "bad_signature": ("签名无效", "bad"),
}


def for_user(number: str, user) -> Certificate:
    """A certificate the user may download: the holder's case, or staff in its jurisdiction."""
    from tongban.services.cases import get_case  # cases → outputs → certificates at import

    cert = Certificate.objects.select_related("case").filter(number=number).first()
    if cert is None:
        raise NotFound("证照不存在")
    get_case(cert.case_id, user)  # NotFound when the user may not see the case
    return cert


def get(number: str) -> Certificate:
    """A certificate by number, for operators (the CLI); no permission check."""
    cert = Certificate.objects.select_related("case__matter").filter(number=number).first()
    if cert is None:
        raise NotFound(f"证照 {number} 不存在")
    return cert


# --- public verification --------------------------------------------------------------------


def _bounds(cert: Certificate) -> tuple[datetime | None, datetime | None]:
    """The validity as signed: a timed one as stored; whole days from 00:00:00 of the
    first to 23:59:59 of the last (Beijing), whatever time of day the row holds."""
    if cert.validity_timed:
        return cert.valid_from, cert.valid_to
    first, last = _local_day(cert.valid_from), _local_day(cert.valid_to)
    return (
        datetime.combine(first, time.min, tzinfo=TZ) if first else None,
        datetime.combine(last, time(23, 59, 59), tzinfo=TZ) if last else None,
    )


def _record_status(cert: Certificate, now: datetime) -> str:
    """Against the instant `now`, to the second: a validity ending 23:59:59 (whole days)
    or 18:00 (a window) still holds during that second."""
    if cert.revoked_at is not None:
        return "revoked"
    now = now.replace(microsecond=0)
    start, end = _bounds(cert)
    if start and now < start:
        return "not_yet_valid"
    if end and now > end:
        return "expired"
    return "valid"


def _status(code: str) -> dict:
    label, tone = STATUSES[code]
    return {"status": code, "label": label, "tone": tone}


def public_status(
    number: str, sig: str = "", *, now: datetime | None = None, today: date | None = None
) -> dict:
    """What anyone holding the number (or the QR) may know: status, what it grants, the
    holder masked, validity and the issuing body — nothing else.

    The status is judged at `now` (default: the current time); `today` is the older form,
    noon of that day in Beijing, enough for a validity of whole days."""
    cert = (
        Certificate.objects.select_related("case__matter")
        .filter(number=(number or "")[:64])
        .first()
    )
    if cert is None:
        return {"found": False, **_status("not_found"), "message": "未查到该编号的证照"}
    if now is None:
        now = datetime.combine(today, time(12), tzinfo=TZ) if today else timezone.now()
    record = _record_status(cert, now)
    spec = catalog.spec_of(cert.case.matter)
    valid_from, valid_to = validity_texts(cert)
    out = {
        "found": True,
        **_status(record),
        "record_status": STATUSES[record][0],
        "name": cert.name,
        "grants": cert.grants,
        "holder": mask_name(cert.holder),
        "valid_from": cert.valid_from,
        "valid_to": cert.valid_to,
        "valid_from_text": valid_from,  # to the minute when the validity has times
        "valid_to_text": valid_to,
        "validity": pdf_doc.validity_text(valid_from, valid_to),
        "issuer": _issuer(cert.case, spec),
        "revoked_on": _local_date(cert.revoked_at),
        "revoke_reason": cert.revoke_reason if cert.revoked_at else "",
        "signature": None,  # None: no ?sig= given; else the check's result code
        "message": "",
    }
    try:
        keyring = signing.from_settings()
    except signing.KeyConfigError:
        log.error("certificate keys are misconfigured; signatures cannot be checked")
        keyring = signing.Keyring()
    # The stored row must still match its own signature: a row edited behind the
    # service's back fails here even without a QR code.
    stored = (
        keyring.check(signed_fields(cert), cert.key_id, cert.signature)
        if cert.signature and cert.key_id
        else None
    )
    if stored == signing.BAD_SIGNATURE:
        out.update(_status("bad_signature"))
        out["message"] = "登记信息与签名不符，请联系发证机关核实"
        return out
    if sig:
        code = _check_sig(cert, sig, keyring)
        out["signature"] = code
        if code != signing.OK:
            out.update(_status("bad_signature"))
            out["message"] = "签名无效，证照可能被篡改"
        else:
            out["message"] = "签名有效：二维码内容与登记信息一致"
    return out


# --- revocation -----------------------------------------------------------------------------


def revokers(cert: Certificate, case: Case, spec) -> tuple[tuple[str, str | None], ...]:
    """(role, level) pairs that may revoke `cert`: the roles that may take the action issuing
    it, as its matter says, and the head of the issuing body."""
    also = tuple((role, spec.body.level) for role in REVOKE_ALSO)
    return issuing_roles(spec, cert.key, case.data) + also


def _may_revoke(cert: Certificate, case: Case, spec, user, actor=None) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    actor = actor or actor_for(user)
    return any(
        actor.holds((role,), case.org_path, level) for role, level in revokers(cert, case, spec)
    )


def may_revoke(cert: Certificate, user) -> bool:
    """May the user revoke this certificate (whether or not it is revoked already)? For
    showing the form; `revoke` decides again inside its transaction."""
    case = cert.case
    return _may_revoke(cert, case, catalog.spec_of(case.matter), user)


def status_of(cert: Certificate, now: datetime | None = None) -> dict:
    """The registered status (valid, not yet valid, expired, revoked) with its label."""
    return _status(_record_status(cert, now or timezone.now()))


def revoke(number: str, reason: str, user, *, now: datetime | None = None) -> Certificate:
    """Revoke a certificate: the issuing role(s) of its matter or the head of the issuing
    body, over the case's org, or a superuser. Someone who may not see the case gets
    NotFound; someone who sees it but may not revoke, Forbidden. Recorded on the case's
    hash chain; revoking twice is a Conflict."""
    from tongban.services.cases import visible

    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("请填写撤销理由", {"reason": "必填"})
    if len(reason) > 200:
        raise Invalid("撤销理由过长", {"reason": "至多 200 个字"})
    now = now or timezone.now()
    with transaction.atomic():
        cert = Certificate.objects.select_for_update().filter(number=(number or "")[:64]).first()
        if cert is None:
            raise NotFound("证照不存在")
        case = Case.objects.select_for_update().select_related("matter").get(pk=cert.case_id)
        actor = actor_for(user)
        if not (getattr(user, "is_superuser", False) or visible(case, actor)):
            raise NotFound("证照不存在")
        spec = catalog.spec_of(case.matter)
        if not _may_revoke(cert, case, spec, user, actor):
            raise Forbidden("只有签发该证照的机关（有权核发的岗位）或其负责人可以撤销证照")
        if cert.revoked_at is not None:
            raise Conflict(
                f"证照 {cert.number} 已于 {_local_date(cert.revoked_at)} 撤销"
                f"（理由：{cert.revoke_reason}），不能重复撤销",
                code="already_revoked",
            )
        cert.revoked_at, cert.revoke_reason = now, reason
        cert.save(update_fields=["revoked_at", "revoke_reason"])
        draft = EventDraft(
            "certificate",
            case.state,
            case.state,
            user.pk,
            action=REVOKE_ACTION,
            comment=reason,
            payload={"number": cert.number, "revoked": True},
        )
        old_version = case.version
        rows = event_rows(case, [draft], now)
        Event.objects.bulk_create(rows)
        updated = Case.objects.filter(pk=case.pk, version=old_version).update(
            version=old_version + 1,
            last_hash=case.last_hash,
            event_count=case.event_count,
            updated_at=now,
        )
        if not updated:
            raise Conflict("办件已被他人更新，请重试", code="stale")
    return cert


# --- configuration check --------------------------------------------------------------------


def check_configuration(app_configs=None, **kwargs) -> list:
    """Django system check (`tongban check`): signing keys and the CJK font."""
    from django.core import checks

    problems = []
    try:
        keyring = signing.from_settings()
    except signing.KeyConfigError as exc:
        problems.append(checks.Error(str(exc), id="tongban.E101"))
    else:
        if keyring.signer is None:
            problems.append(
                checks.Error(
                    "未配置证照签名密钥 TONGBAN_CERT_KEYS：签发证照的操作将失败",
                    hint="用 tongban cert keygen 生成密钥，写入环境变量 TONGBAN_CERT_KEYS",
                    id="tongban.E102",
                )
            )
        elif keyring.dev:
            problems.append(
                checks.Warning(
                    "证照正用由 SECRET_KEY 派生的开发密钥签名，仅供开发、演示和测试",
                    hint="生产环境请用 tongban cert keygen 生成密钥并设置 TONGBAN_CERT_KEYS",
                    id="tongban.W101",
                )
            )
    if not Path(font_path()).is_file():
        problems.append(
            checks.Warning(
                f"找不到中文字体 {font_path()}：证照 PDF 无法生成",
                hint="请安装 fonts-noto-cjk（apt-get install -y fonts-noto-cjk），"
                "或用 TONGBAN_CJK_FONT 指定字体文件",
                id="tongban.W102",
            )
        )
    local = urlsplit(settings.TONGBAN_PUBLIC_URL).hostname in _LOCAL_HOSTS
    if local and not (settings.DEBUG or settings.DEMO):  # a demo or development site is local
        problems.append(
            checks.Warning(
                f"TONGBAN_PUBLIC_URL 仍是本机地址 {settings.TONGBAN_PUBLIC_URL}："
                "证照二维码印的是这个地址，群众用手机扫码打不开核验页",
                hint="签发证照前把 TONGBAN_PUBLIC_URL 设为公众访问本站的地址，例如 "
                "https://tongban.example.gov.cn（已印出的二维码无法更改）",
                id="tongban.W103",
            )
        )
    return problems


_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
