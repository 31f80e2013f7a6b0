"""Validators: coordinates and the GCJ-02 transform."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engine.validators_helpers import (
    refusal,
)
from tongban.engine.validators import (
    CHINA_MESSAGE,
    gcj02_to_wgs84,
    in_china,
    parse_geo,
    wgs84_to_gcj02,
)

# --- coordinates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"lat": 31.3, "lng": 120.6},
        {"lat": "31.3", "lon": "120.6"},
        {"latitude": 31.3, "longitude": 120.6},
        {"latitude": Decimal("31.3"), "longitude": Decimal("120.6")},
        [31.3, 120.6],
        (31.3, 120.6),
        ["31.3", " 120.6 "],
        "31.3,120.6",
        " 31.3 , 120.6 ",
        "31.3，120.6",
        "31.3 120.6",
        "３１.３,１２０.６",
    ],
)
def test_geo_accepted_as_lat_lng(raw):
    assert parse_geo(raw) == (31.3, 120.6)


def test_geo_accepts_edges_and_integers():
    assert parse_geo([90, -180]) == (90.0, -180.0)
    assert parse_geo("-90,180") == (-90.0, 180.0)
    assert parse_geo("+.5,-0.") == (0.5, -0.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写坐标"),
        ("31.3", "坐标应为“纬度,经度”，如 31.3,120.6"),
        ("1,2,3", "坐标应为“纬度,经度”，如 31.3,120.6"),
        ([31.3], "坐标应为[纬度, 经度]两个数"),
        ({"lat": 31.3}, "坐标缺少纬度（lat）或经度（lng）"),
        ({"lng": 120.6}, "坐标缺少纬度（lat）或经度（lng）"),
        ("abc,120.6", "纬度应为数字，如 31.3"),
        ("31.3,1_0", "经度应为数字，如 31.3"),
        ("nan,120.6", "纬度应为数字，如 31.3"),
        ("1e3,120.6", "纬度应为数字，如 31.3"),
        ([True, 120.6], "纬度应为数字，如 31.3"),
        ([None, 120.6], "纬度应为数字，如 31.3"),
        ([float("nan"), 120.6], "纬度应为有限的数字"),
        ([31.3, float("inf")], "经度应为有限的数字"),
        ([10**400, 120.6], "纬度应为有限的数字"),
        ("120.6,31.3", "纬度应在-90到90之间，请检查经纬度是否填反"),
        ("91,100", "纬度应在-90到90之间"),
        ("31.3,180.5", "经度应在-180到180之间"),
    ],
)
def test_geo_refusals_say_what_is_wrong(raw, message):
    assert refusal(parse_geo, raw) == message


finite_lat = st.floats(-90, 90, allow_nan=False)
finite_lng = st.floats(-180, 180, allow_nan=False)


@given(lat=finite_lat, lng=finite_lng)
def test_geo_round_trips_every_shape(lat, lng):
    assert parse_geo({"lat": lat, "lng": lng}) == (lat, lng)
    assert parse_geo([lat, lng]) == (lat, lng)
    text = f"{lat!r},{lng!r}"
    if "e" not in text:  # exponent notation is refused on purpose
        assert parse_geo(text) == (lat, lng)


def test_in_china():
    assert in_china(31.3, 120.6)  # 苏州
    assert in_china(39.908, 116.397)  # 北京
    assert not in_china(120.6, 31.3)  # swapped
    assert not in_china(48.85, 2.35)  # Paris
    assert not in_china(float("nan"), 120.0)
    assert not in_china(None, None)  # type: ignore[arg-type]
    assert CHINA_MESSAGE == "坐标不在中国境内，请检查经纬度是否填反"


# --- GCJ-02 -------------------------------------------------------------------------------

# (wgs_lat, wgs_lng, gcj_lat, gcj_lng), the published eviltransform reference values.
GCJ_REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 111_320
    dlng = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlng)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), GCJ_REFERENCE)
def test_gcj_matches_reference_values(wlat, wlng, glat, glng):
    assert wgs84_to_gcj02(wlat, wlng) == pytest.approx((glat, glng), abs=1e-9)
    assert gcj02_to_wgs84(glat, glng) == pytest.approx((wlat, wlng), abs=1e-7)


def test_gcj_tiananmen_shift_is_a_few_hundred_metres_and_inverts():
    wgs = (39.908, 116.397)
    gcj = wgs84_to_gcj02(*wgs)
    assert 300 < metres(wgs, gcj) < 800
    assert gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-6)


def test_gcj_leaves_points_outside_china_unchanged():
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)
    assert gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)
    assert wgs84_to_gcj02(-33.9, 151.2) == (-33.9, 151.2)


@given(lat=st.floats(18.0, 53.0), lng=st.floats(74.0, 134.5))
def test_gcj_round_trip_inside_china(lat, lng):
    gcj = wgs84_to_gcj02(lat, lng)
    assert metres((lat, lng), gcj) < 1500  # the offset is never more than ~1 km
    back = gcj02_to_wgs84(*gcj)
    assert back == pytest.approx((lat, lng), abs=1e-7)
