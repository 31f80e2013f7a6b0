"""Service circles on hand-checked grids, greedy site suggestions, the map data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.dispatch.test_solver import at
from tongban.dispatch import EBIKE, WALK, coverage, grid_points, map_data, suggest_sites
from tongban.dispatch.coverage import TravelMode

# 3 × 3 grid, 0.9 km apart, site in the middle. Walking 15 min = 1.25 km along the way,
# 1.25 / 1.3 = 0.9615 km straight: the 4 orthogonal neighbours (0.9 km) are in, the
# diagonal ones (1.273 km) are out.
GRID = [(x, y) for y in (-0.9, 0, 0.9) for x in (-0.9, 0, 0.9)]
POP = [5, 1, 6, 2, 10, 3, 7, 4, 8]  # row by row from the south-west; centre 10
CORNERS = {0, 2, 6, 8}


def grid():
    lat, lng = zip(*(at(x, y) for x, y in GRID), strict=True)
    return np.array(lat), np.array(lng)


def test_walking_fifteen_minutes_on_a_3x3_grid():
    lat, lng = grid()
    slat, slng = at(0, 0)
    c = coverage(lat, lng, [slat], [slng], POP, minutes=15, mode=WALK)
    assert c.reached.tolist() == [i not in CORNERS for i in range(9)]
    assert c.covered_population == 10 + 1 + 2 + 3 + 4
    assert c.total_population == 46
    assert c.ratio == pytest.approx(20 / 46)
    assert c.minutes[4] == 0
    # 0.9 km × 1.3 at 5 km/h = 14.04 min
    assert c.minutes[1] == pytest.approx(14.04, rel=2e-3)
    assert np.isinf(c.minutes[0]) and c.nearest[0] == -1
    assert c.nearest[1] == 0
    assert c.site_population.tolist() == [20]


def test_other_modes_limits_and_detours():
    lat, lng = grid()
    slat, slng = at(0, 0)
    assert coverage(lat, lng, [slat], [slng], POP, mode=EBIKE).ratio == 1.0
    assert coverage(lat, lng, [slat], [slng], POP, minutes=5).covered_population == 10
    # no detour: 1.25 km straight reaches the diagonals (1.273 km)? no; 1.3 km would
    straight = WALK.with_detour(1.0)
    assert coverage(lat, lng, [slat], [slng], POP, mode=straight).ratio == pytest.approx(20 / 46)
    fast = TravelMode("fast_walk", 5.2, 1.0)  # 1.3 km in 15 min
    assert coverage(lat, lng, [slat], [slng], POP, mode=fast).ratio == 1.0
    # unweighted: points counted
    assert coverage(lat, lng, [slat], [slng]).covered_population == 5
    # no sites at all
    assert coverage(lat, lng, [], [], POP).ratio == 0.0


def test_two_sites_split_the_population_by_nearest():
    lat, lng = grid()
    west, east = at(-0.9, 0), at(0.9, 0)
    c = coverage(lat, lng, [west[0], east[0]], [west[1], east[1]], POP)
    # each reaches its own column and the centre; the middle column's ends (1.27 km) are out
    assert c.reached.tolist() == [i not in (1, 7) for i in range(9)]
    assert c.covered_population == 46 - 1 - 4
    assert c.site_population.sum() == 41
    assert c.nearest[0] == 0 and c.nearest[2] == 1 and c.nearest[4] in (0, 1)


def test_grid_points_cover_the_box():
    lat, lng = grid_points(31.0, 120.0, 31.1, 120.1, cell_km=1.0)
    assert len(lat) == len(lng)
    assert 11 * 9 <= len(lat) <= 12 * 10
    assert lat.min() > 31.0 and lat.max() < 31.1


def line_points():
    xs = [0.0, 1.5, 3.0, 6.0]
    pop = [30, 25, 20, 5]
    lat, lng = zip(*(at(x, 0) for x in xs), strict=True)
    return np.array(lat), np.array(lng), pop


CANDIDATES_X = [0.75, 0.0, 2.25, 6.0, 3.0]


def candidates():
    lat, lng = zip(*(at(x, 0) for x in CANDIDATES_X), strict=True)
    return np.array(lat), np.array(lng)


def test_greedy_suggestions_hand_checked():
    lat, lng, pop = line_points()
    clat, clng = candidates()
    s = suggest_sites(clat, clng, lat, lng, pop, k=5)
    # c0 covers 0 and 1.5 (55); then c2 and c4 both add 20: the first listed wins; then c3
    assert [x.index for x in s] == [0, 2, 3]
    assert [x.added_population for x in s] == [55, 20, 5]
    assert [x.covered_population for x in s] == [55, 75, 80]
    assert s[-1].ratio == 1.0 and [x.rank for x in s] == [1, 2, 3]


def test_suggestions_on_top_of_existing_sites():
    lat, lng, pop = line_points()
    clat, clng = candidates()
    site = at(0, 0)
    s = suggest_sites(clat, clng, lat, lng, pop, k=2, sites_lat=[site[0]], sites_lng=[site[1]])
    assert [x.index for x in s] == [2, 3]
    assert [x.added_population for x in s] == [45, 5]
    assert s[0].covered_population == 75


def test_lazy_greedy_equals_plain_greedy():
    rng = np.random.default_rng(5)
    lat = 31.3 + rng.normal(0, 0.02, 3000)
    lng = 120.6 + rng.normal(0, 0.02, 3000)
    pop = rng.integers(1, 50, 3000).astype(float)
    clat = 31.3 + rng.normal(0, 0.02, 80)
    clng = 120.6 + rng.normal(0, 0.02, 80)
    s = suggest_sites(clat, clng, lat, lng, pop, k=6)
    covered = np.zeros(3000, bool)
    reach = [coverage(lat, lng, [clat[c]], [clng[c]]).reached for c in range(80)]
    chosen = []
    for _ in range(6):
        gains = [pop[r & ~covered].sum() for r in reach]
        best = int(np.argmax(gains))
        chosen.append(best)
        covered |= reach[best]
    assert [x.index for x in s] == chosen
    assert s[-1].covered_population == pytest.approx(pop[covered].sum())


def test_map_data_is_echarts_json():
    lat, lng = grid()
    slat, slng = at(0, 0)
    c = coverage(lat, lng, [slat], [slng], POP)
    clat, clng = candidates()
    s = suggest_sites(clat, clng, lat, lng, POP, k=1, sites_lat=[slat], sites_lng=[slng])
    page = map_data(lat, lng, c, [slat], [slng], site_names=["湘城社区"], suggestions=s, bins=3)
    json.dumps(page, ensure_ascii=False)  # serialisable as is
    opt = page["option"]
    assert "15 分钟步行服务圈" in opt["title"]["text"] and "43.5%" in opt["title"]["text"]
    names = [x["name"] for x in opt["series"]]
    assert names == ["可达", "不可达", "现有站点", "建议新址"]
    covered, uncovered = opt["series"][0]["data"], opt["series"][1]["data"]
    assert sum(p[2] for p in covered) == 20 and sum(p[2] for p in uncovered) == 26
    assert len(uncovered) == 4  # the four corners, one per 3×3 bin
    assert opt["series"][2]["data"][0][2] == "湘城社区"
    assert page["summary"]["ratio"] == pytest.approx(20 / 46)
    assert 0.8 < page["summary"]["aspect"] < 1.2
