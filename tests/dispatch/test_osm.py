"""The minimal OSM XML reader and service circles along roads, on a hand-written file."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from tests.dispatch.test_solver import at
from tongban.dispatch import EBIKE, WALK, RoadGraph, coverage, suggest_sites

# km east, km north of the origin
NODES = {1: (0, 0), 2: (0.5, 0), 3: (1.0, 0), 4: (0, 0.3), 5: (0.5, 0.5), 6: (2, 2), 7: (2.1, 2)}
WAYS = [
    (10, [1, 2, 3], {"highway": "residential", "oneway": "yes", "name": "湘城大街"}),
    (11, [3, 4], {"highway": "footway"}),
    (12, [1, 4], {"highway": "motorway"}),  # nobody walks or rides a motorway
    (13, [2, 5], {"highway": "steps"}),  # walkers only
    (14, [6, 7, 6], {"building": "yes"}),  # not a road
    (15, [5, 1], {"highway": "service", "access": "private"}),
    (16, [3, 99], {"highway": "residential"}),  # runs off the extract
]


def osm_xml() -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="hand">']
    for i, (x, y) in NODES.items():
        lat, lng = at(x, y)
        lines.append(f'  <node id="{i}" lat="{lat:.7f}" lon="{lng:.7f}" version="1"/>')
    for wid, refs, tags in WAYS:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append('  <relation id="20"><member type="way" ref="10" role=""/></relation>')
    lines.append("</osm>")
    return "\n".join(lines)


@pytest.fixture
def osm_file(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    return path


def node_index(g: RoadGraph, osm_id: int) -> int:
    lat, lng = at(*NODES[osm_id])
    node, km = g.snap([lat], [lng])
    assert km[0] < 1e-3
    return int(node[0])


def test_walking_graph(osm_file):
    g = RoadGraph.from_osm(osm_file, mode="walk")
    assert g.nodes == 5  # 1-5: no building nodes, no missing node 99
    n = {i: node_index(g, i) for i in range(1, 6)}
    m = g.matrix
    assert m[n[1], n[2]] == pytest.approx(0.5, rel=1e-3)
    assert m[n[2], n[1]] == pytest.approx(0.5, rel=1e-3)  # walkers ignore oneway
    assert m[n[1], n[4]] == 0  # motorway left out
    assert m[n[5], n[1]] == 0  # private
    assert m[n[2], n[5]] > 0  # steps are fine on foot
    site = at(*NODES[1])
    km, label = g.to_nearest([site[0]], [site[1]])
    assert km[n[4]] == pytest.approx(np.hypot(1.0, 0.3) + 1.0, rel=1e-3)  # round by node 3
    assert km[n[5]] == pytest.approx(1.0, rel=1e-3)
    assert (label == 0).all()


def test_ebike_graph_respects_oneway_and_steps(osm_file):
    g = RoadGraph.from_osm(osm_file, mode="ebike")
    n = {i: node_index(g, i) for i in (1, 2, 3, 4)}
    assert g.nodes == 4  # node 5 is reached by steps and a private road only
    assert g.matrix[n[1], n[2]] > 0 and g.matrix[n[2], n[1]] == 0
    site = at(*NODES[1])
    km, label = g.to_nearest([site[0]], [site[1]])
    assert np.isinf(km[n[2]]) and label[n[2]] == -1  # against the one-way street
    site3 = at(*NODES[3])
    km, _ = g.to_nearest([site3[0]], [site3[1]])
    assert km[n[1]] == pytest.approx(1.0, rel=1e-3)


def test_service_circle_along_roads(osm_file):
    g = RoadGraph.from_osm(osm_file, mode="walk")
    pts = [at(*NODES[i]) for i in (2, 3, 4, 5)]
    plat, plng = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    site = at(*NODES[1])
    road = coverage(plat, plng, [site[0]], [site[1]], minutes=15, mode=WALK, graph=g)
    # 0.5 km → 6 min, 1.0 km → 12 min, node 4 is 2.04 km round → 24.5 min, node 5 1.0 km
    assert road.reached.tolist() == [True, True, False, True]
    assert road.minutes[0] == pytest.approx(6.0, rel=1e-3)
    assert road.minutes[1] == pytest.approx(12.0, rel=1e-3)
    assert road.summary()["road_graph"] is True and road.summary()["detour"] is None
    # the straight line × 1.3 wrongly counts node 4 (0.3 km away) as 4.7 minutes
    line = coverage(plat, plng, [site[0]], [site[1]], minutes=15, mode=WALK)
    assert line.reached[2] and line.minutes[2] == pytest.approx(4.68, rel=2e-3)
    # a point off the road walks straight to its nearest node first
    off = at(1.0, 0.1)
    c = coverage([off[0]], [off[1]], [site[0]], [site[1]], graph=g)
    assert c.minutes[0] == pytest.approx((1.0 + 0.1) / 5 * 60, rel=2e-3)


def test_two_sites_label_the_nearest_and_suggestions_follow_roads(osm_file):
    g = RoadGraph.from_osm(osm_file, mode="walk")
    s1, s3 = at(*NODES[1]), at(*NODES[3])
    km, label = g.to_nearest([s1[0], s3[0]], [s1[1], s3[1]])
    assert label[node_index(g, 4)] == 1 and label[node_index(g, 2)] in (0, 1)
    assert label[node_index(g, 5)] == 0
    # candidates at node 1 and node 3 for the point at node 4: only node 3 reaches it
    p4 = at(*NODES[4])
    s = suggest_sites([s1[0], s3[0]], [s1[1], s3[1]], [p4[0]], [p4[1]], [7], k=2, graph=g)
    assert [x.index for x in s] == [1] and s[0].added_population == 7


def test_gzipped_file_and_ebike_circle(tmp_path):
    path = tmp_path / "tiny.osm.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(osm_xml())
    g = RoadGraph.from_osm(path, mode="ebike")
    assert g.nodes == 4
    site = at(*NODES[3])
    p1 = at(*NODES[1])
    c = coverage([p1[0]], [p1[1]], [site[0]], [site[1]], mode=EBIKE, graph=g)
    assert c.minutes[0] == pytest.approx(4.0, rel=1e-3)  # 1 km at 15 km/h
    with pytest.raises(ValueError):
        RoadGraph.from_osm(path, mode="car")
