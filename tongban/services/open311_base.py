"""Open311 GeoReport v2: errors, jurisdictions, discovery and the service list.

Split from tongban.services.open311 (which re-exports every name); see its docstring."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from tongban.services import catalog, requests
from tongban.store.models import Org

SPEC = "http://wiki.open311.org/GeoReport_v2"
GENERAL = "general"
TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_TYPE = "求助"
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


def _one(params: Mapping, name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "").strip()
