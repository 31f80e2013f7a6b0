"""Open311 GeoReport v2: GET requests (the filtered list and one request), as plain data.

Split from tongban.services.open311 (which re-exports every name); see its docstring."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from tongban.services import catalog, requests
from tongban.services.open311_base import GENERAL, TZ, _one, bad, jurisdiction, service_codes, w3
from tongban.store.models import Case

DEFAULT_DAYS = 90
MAX_DAYS = 90
MAX_RECORDS = 1000
MAX_IDS = 1000
FINAL_NOTES = {"closed": "已办结", "withdrawn": "已撤回", "referred": "已转人民调解"}


# -- GET requests ---------------------------------------------------------------------------

_W3 = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?", re.ASCII
)


def parse_w3(raw: str, name: str) -> datetime:
    """A W3C datetime (with its timezone) or a date (Beijing midnight)."""
    text = raw.strip()
    if not _W3.fullmatch(text):
        raise bad(f"{name}: 应为 W3C 日期时间（含时区），如 2026-01-01T00:00:00Z 或 2026-01-01")
    try:
        if "T" not in text:
            return datetime.combine(date.fromisoformat(text), time.min, tzinfo=TZ)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"{name}: 日期时间不存在（{text[:40]}）") from None


def _range(params: Mapping, now: datetime) -> tuple[datetime, datetime]:
    start_raw, end_raw = _one(params, "start_date"), _one(params, "end_date")
    start = parse_w3(start_raw, "start_date") if start_raw else None
    end = parse_w3(end_raw, "end_date") if end_raw else None
    span = timedelta(days=MAX_DAYS)
    if start and end:
        if start > end:
            raise bad("start_date must not be after end_date / 开始时间不能晚于结束时间")
        if end - start > span:
            raise bad(f"the date range may not span more than {MAX_DAYS} days / 跨度不能超过 90 天")
    elif start:
        end = start + span
    elif end:
        start = end - span
    else:
        end, start = now, now - timedelta(days=DEFAULT_DAYS)
    return start, end


def _list(params: Mapping, name: str) -> list[str]:
    values = params.getlist(name) if hasattr(params, "getlist") else [params.get(name) or ""]
    return [v.strip() for raw in values for v in str(raw or "").split(",") if v.strip()]


def search(params: Mapping, *, now: datetime | None = None) -> list[dict]:
    """GET requests with its filters; newest first, at most 1000."""
    now = now or timezone.now()
    district = jurisdiction(_one(params, "jurisdiction_id"))
    qs = Case.objects.filter(matter_code=requests.MATTER)
    if district is not None:
        qs = qs.filter(j_district=district.code)
    ids = _list(params, "service_request_id")
    if ids:
        if len(ids) > MAX_IDS or not all(i.isdigit() and len(i) < 19 for i in ids):
            raise bad("service_request_id: 应为以逗号分隔的数字编号")
        return rows(qs.filter(pk__in=[int(i) for i in ids]).order_by("-submitted_at"))
    codes = _list(params, "service_code")
    unknown = [c for c in codes if c not in service_codes()]
    if unknown:
        raise bad(f"service_code: 没有这个服务类别 {unknown[0][:40]}")
    if codes:
        q = Q(pk__in=[])
        categories = [c for c in codes if c != GENERAL]
        if categories:
            q |= Q(data__category__in=categories)
        if GENERAL in codes:
            q |= Q(data__category__isnull=True)
        qs = qs.filter(q)
    statuses = _list(params, "status")
    bad_status = [s for s in statuses if s not in ("open", "closed")]
    if bad_status:
        raise bad(f"status: 只能是 open 或 closed（收到 {bad_status[0][:20]}）")
    if set(statuses) == {"open"}:
        qs = qs.filter(outcome="")
    elif set(statuses) == {"closed"}:
        qs = qs.exclude(outcome="")
    start, end = _range(params, now)
    qs = qs.filter(submitted_at__gte=start, submitted_at__lte=end)
    return rows(qs.order_by("-submitted_at", "-pk")[:MAX_RECORDS])


def one(request_id: str, jid: str | None = None) -> list[dict]:
    district = jurisdiction(jid)
    if not request_id.isdigit() or len(request_id) > 18:
        raise bad(f"service_request_id '{request_id[:20]}' not found / 诉求不存在", 404)
    qs = Case.objects.filter(matter_code=requests.MATTER, pk=int(request_id))
    if district is not None:
        qs = qs.filter(j_district=district.code)
    found = rows(qs)
    if not found:
        raise bad(f"service_request_id '{request_id}' not found / 诉求不存在", 404)
    return found


_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def public_text(text: str) -> str:
    """Request text as the public may read it: phone and ID numbers masked."""
    return _ID.sub(r"\1********\2", _PHONE.sub(r"\1****\2", text or ""))


def status_notes(case: Case, spec, labels: dict[str, str], original: int | None) -> str:
    if case.state in FINAL_NOTES:
        return FINAL_NOTES[case.state]
    label = spec.state(case.state).label if case.state in spec.workflow.states else case.state
    department = labels.get(case.data.get("department") or "", "")
    if case.state == "merged" and original:
        return f"已与诉求 {original} 并案办理"
    if case.state in ("dispatched", "handling", "rehandling", "sent_back") and department:
        return f"{label}（{department}）"
    return label


def rows(qs) -> list[dict]:
    cases = list(qs.select_related("matter"))
    labels = catalog.role_labels()
    from tongban.store.models import RequestLink

    originals = dict(
        RequestLink.objects.filter(
            request_id__in=[c.pk for c in cases], status=RequestLink.MERGED
        ).values_list("request_id", "original_id")
    )
    out = []
    for c in cases:
        spec = catalog.spec_of(c.matter)
        data = c.data
        position = data.get("position") if isinstance(data.get("position"), dict) else {}
        category = data.get("category")
        out.append(
            {
                "service_request_id": c.pk,
                "status": "open" if c.is_open else "closed",
                "status_notes": status_notes(c, spec, labels, originals.get(c.pk)),
                "service_name": category or "其他或不确定类别",
                "service_code": category or GENERAL,
                "description": public_text(str(data.get("content") or "")),
                "agency_responsible": labels.get(data.get("department") or "") or None,
                "service_notice": None,
                "requested_datetime": w3(c.submitted_at),
                "updated_datetime": w3(c.closed_at or c.updated_at),
                "expected_datetime": w3(c.due_at),
                "address": data.get("address") or None,
                "address_id": None,
                "zipcode": None,
                "lat": position.get("lat"),
                "long": position.get("lng"),
                "media_url": data.get("media_url") or None,
            }
        )
    return out
