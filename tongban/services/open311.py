"""Open311 GeoReport v2 over the request matter: what each endpoint answers, as plain data.

The web layer (tongban.web.open311) turns these dicts and lists into XML or JSON. Errors
are `Open311Error(status, [(code, description), ...])`: 404 for what does not exist, 403
for a missing or wrong api_key, 400 for anything else the request cannot be fulfilled
with — as the spec says.

Mapping onto the case engine:

* service_code — a request category (诉求类别, e.g. 城乡建设), or `general` when the
  resident does not know: then the classifier (or a dispatcher) decides.
* status — `closed` once the case is in a final state (办结, 撤回, 转人民调解), else
  `open`; `status_notes` names the detailed state (待派单, 待签收 by which department, 办理中,
  待回访, 已并案…).
* The one attribute, `request_type` (咨询/求助/建议/投诉/紧急), sets the time limit;
  default 求助. api_key is an API token (`tongban token create USER`).
* Public answers never carry the caller's name or phone; phone and ID numbers inside the
  description are masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from tongban.services import auth, catalog, requests
from tongban.services.errors import Invalid, ServiceError
from tongban.store.models import Case, Org

SPEC = "http://wiki.open311.org/GeoReport_v2"
GENERAL = "general"
TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 90
MAX_DAYS = 90
MAX_RECORDS = 1000
MAX_IDS = 1000
DEFAULT_TYPE = "求助"
FINAL_NOTES = {"closed": "已办结", "withdrawn": "已撤回", "referred": "已转人民调解"}
CHANGESET = "2026-11-22T00:00:00+08:00"  # bump when the service list or definitions change


class Open311Error(Exception):
    def __init__(self, status: int, errors: list[tuple[int | str, str]]):
        super().__init__("; ".join(d for _, d in errors))
        self.status = status
        self.errors = errors


def bad(description: str, status: int = 400) -> Open311Error:
    return Open311Error(status, [(status, description)])


def w3(dt: datetime | None) -> str | None:
    """W3C datetime with the offset, Beijing time: 2026-03-01T09:30:00+08:00."""
    return dt.astimezone(TZ).isoformat(timespec="seconds") if dt else None


# -- jurisdictions -----------------------------------------------------------------------


def jurisdiction(jid: str | None) -> Org | None:
    """The district a jurisdiction_id names (its division code), None when not given; this
    endpoint serves several districts, so the id narrows a query to one of them."""
    jid = (jid or "").strip()
    if not jid:
        return None
    org = Org.objects.filter(code=jid, level="district").first()
    if org is None:
        raise bad(f"jurisdiction_id '{jid[:40]}' not found / 没有这个辖区", 404)
    return org


# -- discovery and services --------------------------------------------------------------


def discovery(base_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": "12345 政务服务便民热线：拨打 12345；接口问题请联系平台管理员",
        "key_service": "api_key 由平台管理员用 `tongban token create 用户名` 创建并线下发放",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _spec():
    return catalog.spec_of(catalog.current_version(requests.MATTER))


def service_codes() -> list[str]:
    return [*requests.category_options(), GENERAL]


def services() -> list[dict]:
    spec = _spec()
    out = []
    for category in requests.category_options():
        out.append(
            {
                "service_code": category,
                "service_name": category,
                "description": f"{category}类问题的投诉、求助、建议和咨询，派往承办部门限时办理",
                "metadata": True,
                "type": "realtime",
                "keywords": category,
                "group": spec.category,
            }
        )
    out.append(
        {
            "service_code": GENERAL,
            "service_name": "其他或不确定类别",
            "description": "不确定属于哪一类时选这一项：由系统或派单员判断类别后派往承办部门",
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(spec.keywords),
            "group": spec.category,
        }
    )
    return out


def _check_code(code: str | None) -> str:
    code = (code or "").strip()
    if not code:
        raise bad("service_code was not provided / 请提供 service_code")
    if code not in service_codes():
        raise bad(f"service_code '{code[:40]}' not found / 没有这个服务类别", 404)
    return code


def definition(code: str) -> dict:
    code = _check_code(code)
    field = _spec().field("request_type")
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "request_type",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": f"不选时按「{DEFAULT_TYPE}」办理",
                "order": 1,
                "description": "诉求类型（决定办理时限）",
                "values": [{"key": o, "name": o} for o in field.options],
            }
        ],
    }


# -- POST requests ------------------------------------------------------------------------

# The engine's field names → the Open311 parameter a client must correct.
PARAMS = {
    "content": "description",
    "position": "lat/long",
    "address": "address_string",
    "contact_name": "first_name/last_name",
    "contact_phone": "phone",
    "request_type": "attribute[request_type]",
    "org": "lat/long or address_string",
    "category": "service_code",
    "media_url": "media_url",
}


def user_for_key(api_key: str | None):
    key = (api_key or "").strip()
    if not key:
        raise bad("api_key was not provided / 缺少 api_key", 403)
    user = auth.user_for_token(key)
    if user is None:
        raise bad("Invalid api_key received -- can't proceed with create_request / 无效", 403)
    return user


def _one(params: Mapping, name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "").strip()


def _errors(exc: ServiceError) -> Open311Error:
    if not exc.fields:
        return bad(exc.message)
    return Open311Error(
        400, [(400, f"{PARAMS.get(k, k)}: {v}") for k, v in exc.fields.items() if v]
    )


def create(user, params: Mapping, *, now: datetime | None = None) -> dict:
    """POST requests: file a request through the same intake as every channel."""
    code = _check_code(_one(params, "service_code"))
    district = jurisdiction(_one(params, "jurisdiction_id"))
    lat, lng = _one(params, "lat"), _one(params, "long")
    address, address_id = _one(params, "address_string"), _one(params, "address_id")
    problems: list[tuple[int, str]] = []
    if bool(lat) != bool(lng):
        problems.append((400, "lat & long must both be sent / 纬度和经度要同时提供"))
    if not (lat and lng) and not address and not address_id:
        problems.append(
            (400, "a location is required: lat & long, address_string or address_id / 请提供位置")
        )
    description = _one(params, "description")
    if not description:
        problems.append((400, "description: 请填写诉求内容"))
    attribute = _one(params, "attribute[request_type]") or DEFAULT_TYPE
    media_url = _one(params, "media_url")
    if media_url and not re.fullmatch(r"https?://\S{1,490}", media_url):
        problems.append((400, "media_url: 应为 http(s) 地址，最多 500 字符"))
    if problems:
        raise Open311Error(400, problems)
    name = (_one(params, "last_name") + _one(params, "first_name"))[:30]
    raw = {
        "request_type": attribute,
        "content": description,
        "address": address or (f"地址编号 {address_id}" if address_id else ""),
        "position": f"{lat},{lng}" if lat and lng else "",
        "contact_name": name,
        "contact_phone": _one(params, "phone"),
    }
    # The place decides the org: the district the point lies in (refined by the address),
    # never the home of the app account that holds the api_key.
    org_code = district.code if district is not None else None
    if lat and lng:
        try:
            point = requests.parse_point(raw["position"])
        except Invalid as exc:
            raise _errors(exc) from None
        here = requests.districts_at(*point) if point else []
        if district is not None and district.code not in here:
            raise bad(f"lat/long: 位置不在 jurisdiction_id {district.code}（{district.name}）内")
        org_code = org_code or (here[0] if here else None)
    try:
        case = requests.intake(
            user,
            {k: v for k, v in raw.items() if v not in ("", None)},
            channel="open311",
            org_code=org_code,
            category=None if code == GENERAL else code,
            now=now,
            media_url=media_url or None,
        )
    except ServiceError as exc:
        raise _errors(exc) from None
    return {
        "service_request_id": case.pk,
        "service_notice": _notice(case),
        "account_id": None,
    }


def _notice(case: Case) -> str:
    due = timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M") if case.due_at else ""
    token = requests.token_of(case)
    parts = ["已登记"]
    if due:
        parts.append(f"承诺 {due} 前答复")
    if token:
        parts.append(f"查询码 {token}")
    return "，".join(parts)


# -- GET tokens/{token} --------------------------------------------------------------------


def token(value: str, jid: str | None = None) -> list[dict]:
    jurisdiction(jid)
    if not (value or "").strip():
        raise bad("token was not provided / 请提供查询码")
    case = requests.case_for_token(value)
    if case is None:
        raise bad(f"token '{value[:20]}' not found / 查询码不存在", 404)
    return [{"service_request_id": case.pk, "token": requests.token_of(case)}]


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
