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
from datetime import datetime

from django.utils import timezone

from tongban.services import auth, requests
from tongban.services.errors import Invalid, ServiceError
from tongban.services.open311_base import (
    CHANGESET,
    DEFAULT_TYPE,
    GENERAL,
    SPEC,
    TZ,
    Open311Error,
    _check_code,
    _one,
    _spec,
    bad,
    definition,
    discovery,
    jurisdiction,
    service_codes,
    services,
    w3,
)
from tongban.services.open311_get import (
    _ID,
    _PHONE,
    _W3,
    DEFAULT_DAYS,
    FINAL_NOTES,
    MAX_DAYS,
    MAX_IDS,
    MAX_RECORDS,
    _list,
    _range,
    one,
    parse_w3,
    public_text,
    rows,
    search,
    status_notes,
)
from tongban.store.models import Case

__all__ = [
    "CHANGESET",
    "DEFAULT_DAYS",
    "DEFAULT_TYPE",
    "FINAL_NOTES",
    "GENERAL",
    "MAX_DAYS",
    "MAX_IDS",
    "MAX_RECORDS",
    "PARAMS",
    "SPEC",
    "TZ",
    "_ID",
    "_PHONE",
    "_W3",
    "Open311Error",
    "_check_code",
    "_errors",
    "_list",
    "_notice",
    "_one",
    "_range",
    "_spec",
    "bad",
    "create",
    "definition",
    "discovery",
    "jurisdiction",
    "one",
    "parse_w3",
    "public_text",
    "rows",
    "search",
    "service_codes",
    "services",
    "status_notes",
    "token",
    "user_for_key",
    "w3",
]


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
