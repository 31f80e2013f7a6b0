"""Coordinates typed or pasted by people, and the WGS-84 ↔ GCJ-02 conversion used by
Chinese map providers; see `tongban.engine.validators`."""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from typing import Any

from tongban.engine.validators_base import _FULLWIDTH, ValidationError, _text

# --- coordinates --------------------------------------------------------------------------

_LAT_KEYS = ("lat", "latitude")
_LNG_KEYS = ("lng", "lon", "longitude")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_GEO_SHAPE = "坐标应为“纬度,经度”，如 31.3,120.6"
CHINA_MESSAGE = "坐标不在中国境内，请检查经纬度是否填反"


def parse_geo(raw: Any) -> tuple[float, float]:
    """(lat, lng) in WGS84 degrees from a dict, a [lat, lng] pair or a "lat,lng" string."""
    lat_raw, lng_raw = _geo_parts(raw)
    lat, lng = _coordinate(lat_raw, "纬度"), _coordinate(lng_raw, "经度")
    swapped_hint = "，请检查经纬度是否填反" if abs(lng) <= 90 else ""
    if not -90 <= lat <= 90:
        raise ValidationError(f"纬度应在-90到90之间{swapped_hint}")
    if not -180 <= lng <= 180:
        raise ValidationError("经度应在-180到180之间")
    return lat, lng


def _geo_parts(raw: Any) -> tuple[Any, Any]:
    if isinstance(raw, dict):
        lat = next((raw[k] for k in _LAT_KEYS if k in raw), None)
        lng = next((raw[k] for k in _LNG_KEYS if k in raw), None)
        if lat is None or lng is None:
            raise ValidationError("坐标缺少纬度（lat）或经度（lng）")
        return lat, lng
    if isinstance(raw, list | tuple):
        if len(raw) != 2:
            raise ValidationError("坐标应为[纬度, 经度]两个数")
        return raw[0], raw[1]
    parts = re.split(r"[,，\s]+", _text(raw, "坐标"))
    if len(parts) != 2:
        raise ValidationError(_GEO_SHAPE)
    return parts[0], parts[1]


def _coordinate(value: Any, label: str) -> float:
    """A finite float from a number or a plain decimal string."""
    if isinstance(value, str):
        value = value.translate(_FULLWIDTH).strip()
        # float() would also take "1_0", "nan", "1e400"; only plain decimals are coordinates.
        if len(value) > 40 or not _DECIMAL.fullmatch(value):
            raise ValidationError(f"{label}应为数字，如 31.3")
    elif isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise ValidationError(f"{label}应为数字，如 31.3")
    try:
        number = float(value)
    except (ValueError, TypeError, OverflowError):  # e.g. Decimal('sNaN'), 10**400
        raise ValidationError(f"{label}应为有限的数字") from None
    if not math.isfinite(number):
        raise ValidationError(f"{label}应为有限的数字")
    return number


def in_china(lat: float, lng: float) -> bool:
    """Rough bounding box of China; callers reject outside points with CHINA_MESSAGE."""
    try:
        return 3.8 <= lat <= 53.6 and 73.5 <= lng <= 135.1
    except TypeError:
        return False


# --- GCJ-02 ("Mars coordinates") used by Chinese map providers ----------------------------

# Krasovsky 1940 ellipsoid, which the GCJ-02 formula is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """WGS84 to GCJ-02 by the published offset formula; unchanged outside China."""
    if not in_china(lat, lng):
        return lat, lng
    dlat, dlng = _gcj_offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 to WGS84 by fixed-point iteration on the forward formula (to < 1e-7°)."""
    if not in_china(lat, lng):
        return lat, lng
    wgs_lat, wgs_lng = lat, lng
    for _ in range(30):  # converges in a handful of steps; the cap guards edge cases
        gcj_lat, gcj_lng = wgs84_to_gcj02(wgs_lat, wgs_lng)
        err_lat, err_lng = gcj_lat - lat, gcj_lng - lng
        if abs(err_lat) < 1e-9 and abs(err_lng) < 1e-9:
            break
        wgs_lat, wgs_lng = wgs_lat - err_lat, wgs_lng - err_lng
    return wgs_lat, wgs_lng


def _gcj_offset(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    shared = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += shared + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += shared + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    dlng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    dlat = dlat * 180.0 / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    dlng = dlng * 180.0 / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return dlat, dlng
