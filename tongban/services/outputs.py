"""What a state change produces besides itself: certificates and spawned cases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from tongban.documents.pdf import instant_text
from tongban.engine.schema import LEVELS, CertificateSpec, MatterSpec
from tongban.engine.workflow import EventDraft
from tongban.services import certificates, numbering
from tongban.services.errors import Invalid
from tongban.store import fastpath
from tongban.store.models import Case, Certificate

TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
SUPERSEDED = "已重新签发："  # + the new number: the revoke reason of a replaced certificate


def _bound(spec: MatterSpec, key: str, data: dict) -> date | datetime | None:
    """A validity bound from a date field (a date) or a datetime field (an aware datetime)."""
    raw = data.get(key)
    if not raw:
        return None
    f = spec.field(key)
    timed = f.type == "datetime" if f is not None else len(str(raw)) > 10
    if timed:
        value = datetime.fromisoformat(str(raw))
        return value if value.tzinfo else value.replace(tzinfo=TZ)
    return date.fromisoformat(str(raw)[:10])


def _start(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=TZ)


def _end(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, END_OF_DAY, tzinfo=TZ)


def validity(
    cert: CertificateSpec, spec: MatterSpec, data: dict, now: datetime
) -> tuple[datetime | None, datetime | None, bool]:
    """(valid from, valid to, timed). Date fields and `days` give whole days — 00:00:00 of
    the first to 23:59:59 of the last, Beijing time; a datetime field is used as it is
    (timed). `days` counts the first day (whole days), or adds N × 24 hours to a datetime."""
    v = cert.validity
    if v is None:
        return None, None, False
    start = (_bound(spec, v.from_field, data) if v.from_field else None) or (
        now.astimezone(TZ).date()
    )
    end = _bound(spec, v.to_field, data) if v.to_field else None
    if end is None and v.days:
        if isinstance(start, datetime):
            end = start + timedelta(days=v.days)
        else:
            end = start + timedelta(days=v.days - 1)
    timed = isinstance(start, datetime) or isinstance(end, datetime)
    return _start(start), _end(end), timed


def _division(org_path: str, level: str) -> str:
    """The code of the case's org at the numbering rule's level (its district by default)."""
    codes = org_path.split("/")
    index = LEVELS.index(level)
    return codes[min(index, len(codes) - 1)]


def _check_validity(
    cert: CertificateSpec, spec: MatterSpec, start: datetime, end: datetime, timed: bool
) -> None:
    if end >= start:
        return
    labels = {f.key: f.label for f in spec.fields}
    v = cert.validity
    to_label = labels.get(v.to_field or "", "有效期结束")
    from_label = labels.get(v.from_field or "", "有效期开始")
    raise Invalid(
        f"「{cert.name}」的有效期不成立：{to_label} {instant_text(end, timed)} 早于 "
        f"{from_label} {instant_text(start, timed)}，不能发证；请退回申请人更正",
        code="validity_inverted",
    )


def _supersede(case_id: int, key: str, now: datetime, reason: str) -> list[str]:
    """Revoke the certificates of this key the case still holds; their numbers. One
    UPDATE … RETURNING (the row locks it takes serialise two re-issues), not a locking
    SELECT and an UPDATE: this runs on every approval, and usually matches nothing."""
    q = connection.ops.quote_name
    sql = (
        f"UPDATE {q(Certificate._meta.db_table)} SET {q('revoked_at')} = %s, "
        f"{q('revoke_reason')} = %s WHERE {q('case_id')} = %s AND {q('key')} = %s "
        f"AND {q('revoked_at')} IS NULL RETURNING {q('number')}"
    )
    params = [connection.ops.adapt_datetimefield_value(now), reason, case_id, key]
    rows = fastpath.execute(sql, params).fetchall()
    return sorted(row[0] for row in rows)


def issue_certificate(
    case: Case, spec: MatterSpec, key: str, actor_id: int, now: datetime
) -> tuple[Certificate, EventDraft]:
    """A numbered, signed certificate (unsaved: the caller bulk-creates it in the same
    transaction) and its event. A certificate of the same key this case already holds is
    superseded: revoked with the reason 已重新签发：<new number>, so only the newest one
    verifies as valid."""
    cert = next(c for c in spec.outputs.certificates if c.key == key)
    valid_from, valid_to, timed = validity(cert, spec, case.data, now)
    if valid_from is not None and valid_to is not None:
        _check_validity(cert, spec, valid_from, valid_to, timed)
    division = _division(case.org_path, cert.numbering.division_level)
    number = numbering.issue(cert.numbering, now=now, division=division, matter=spec.code)
    holder = str(case.data.get(cert.holder_field, "")) if cert.holder_field else ""
    details = {k: case.data.get(k) for k in cert.show_fields if k in case.data}
    row = Certificate(
        number=number,
        case=case,
        key=cert.key,
        name=cert.name,
        matter_code=spec.code,
        holder=holder,
        grants=cert.grants or "",
        details=details,
        valid_from=valid_from,
        valid_to=valid_to,
        validity_timed=timed,
        issued_at=now,
    )
    superseded = _supersede(case.pk, cert.key, now, f"{SUPERSEDED}{number}")
    signed = certificates.signed_fields(row)  # the validity as it is signed: dates or times
    payload = {"number": number, "certificate": cert.key, "valid_to": signed.valid_to or None}
    if timed:
        payload["valid_from"] = signed.valid_from or None
    if superseded:
        payload["supersedes"] = superseded
    event = EventDraft("certificate", case.state, case.state, actor_id, payload=payload)
    certificates.sign(row)
    return row, event
