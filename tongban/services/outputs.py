"""What a state change produces besides itself: certificates and spawned cases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tongban.engine.schema import LEVELS, CertificateSpec, MatterSpec
from tongban.engine.workflow import EventDraft
from tongban.services import certificates, numbering
from tongban.store.models import Case, Certificate

TZ = ZoneInfo("Asia/Shanghai")


def _validity(cert: CertificateSpec, data: dict, now: datetime) -> tuple[date | None, date | None]:
    v = cert.validity
    if v is None:
        return None, None
    today = now.astimezone(TZ).date()
    start = (
        date.fromisoformat(data[v.from_field][:10])
        if v.from_field and data.get(v.from_field)
        else today
    )
    if v.to_field and data.get(v.to_field):
        return start, date.fromisoformat(data[v.to_field][:10])
    if v.days:
        return start, start + timedelta(days=v.days - 1)
    return start, None


def _division(org_path: str, level: str) -> str:
    """The code of the case's org at the numbering rule's level (its district by default)."""
    codes = org_path.split("/")
    index = LEVELS.index(level)
    return codes[min(index, len(codes) - 1)]


def issue_certificate(
    case: Case, spec: MatterSpec, key: str, actor_id: int, now: datetime
) -> tuple[Certificate, EventDraft]:
    cert = next(c for c in spec.outputs.certificates if c.key == key)
    division = _division(case.org_path, cert.numbering.division_level)
    number = numbering.issue(cert.numbering, now=now, division=division, matter=spec.code)
    valid_from, valid_to = _validity(cert, case.data, now)
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
        issued_at=now,
    )
    event = EventDraft(
        "certificate",
        case.state,
        case.state,
        actor_id,
        payload={"number": number, "certificate": cert.key, "valid_to": valid_to},
    )
    certificates.sign(row)
    return row, event
