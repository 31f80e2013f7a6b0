"""Where a request is: the deployment's area, and the org a position or an address names."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tongban.engine import validators
from tongban.services.errors import Invalid
from tongban.store.models import Org

# Bounding boxes (south, west, north, east; WGS84 degrees) of the districts this deployment
# serves, by district code. Approximate boxes of the two demo districts in Suzhou; a
# deployment sets its own in the setting TONGBAN_REQUEST_AREAS.
AREAS: dict[str, tuple[float, float, float, float]] = {
    "320507": (31.33, 120.43, 31.60, 120.82),  # 相城区
    "320508": (31.26, 120.55, 31.36, 120.68),  # 姑苏区
}
OUTSIDE_AREA = "位置不在本平台的服务区域内"


def areas() -> dict[str, tuple[float, float, float, float]]:
    return dict(getattr(settings, "TONGBAN_REQUEST_AREAS", None) or AREAS)


def _inside(box: tuple[float, float, float, float], lat: float, lng: float) -> bool:
    south, west, north, east = box
    return south <= lat <= north and west <= lng <= east


def parse_point(raw: Any, key: str = "position") -> tuple[float, float] | None:
    """(lat, lng) of a position as any channel sends it, or None when blank; Invalid when
    it is not a coordinate, lies outside China or outside every district served here."""
    if raw in (None, "", {}, []) or (isinstance(raw, str) and not raw.strip(", ")):
        return None
    try:
        lat, lng = validators.parse_geo(raw)
    except validators.ValidationError as exc:
        raise Invalid("位置格式不对", {key: exc.message}) from None
    if not validators.in_china(lat, lng):
        raise Invalid(validators.CHINA_MESSAGE, {key: validators.CHINA_MESSAGE})
    if not districts_at(lat, lng):
        served = Org.objects.filter(code__in=list(areas())).order_by("code")
        names = "、".join(served.values_list("name", flat=True))
        message = f"{OUTSIDE_AREA}（{names}）" if names else OUTSIDE_AREA
        raise Invalid(message, {key: message})
    return lat, lng


def districts_at(lat: float, lng: float) -> list[str]:
    """District codes whose box holds the point, the smallest box first."""
    hits = [(code, box) for code, box in areas().items() if _inside(box, lat, lng)]
    hits.sort(key=lambda cb: (cb[1][2] - cb[1][0]) * (cb[1][3] - cb[1][1]))
    return [code for code, _ in hits]


def district_of(org: Org) -> str:
    return org.path.split("/")[0]


def locate(
    point: tuple[float, float] | None, address: str | None, fallback: Org | None
) -> Org | None:
    """The org a request belongs to: the deepest street or community of the district whose
    name the address mentions; else the district its position lies in (the fallback itself
    when the fallback's district holds the point); else the fallback (the filer's community,
    or the org an operator chose)."""
    base = fallback
    if point is not None:
        codes = districts_at(*point)
        if fallback is None or district_of(fallback) not in codes:
            base = Org.objects.filter(code__in=codes[:1]).first() if codes else fallback
    text = (address or "").strip()
    if not text:
        return base
    candidates = Org.objects.exclude(level="grid")
    if base is not None:
        candidates = candidates.filter(path__startswith=district_of(base) + "/")
    named = [o for o in candidates.only("code", "name", "path", "level") if o.name in text]
    if not named:
        return base
    best = max(named, key=lambda o: (o.path.count("/"), len(o.name)))
    if base is not None and (base.path == best.path or base.path.startswith(best.path + "/")):
        return base  # the address names where the fallback already is (or above it)
    return best


def home_org(user) -> Org | None:
    profile = getattr(user, "profile", None)
    return profile.home_org if profile is not None and profile.home_org_id else None
