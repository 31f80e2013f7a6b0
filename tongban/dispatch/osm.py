"""A road graph from an OpenStreetMap XML file, for service circles along real streets.

What this is: a minimal reader of the OSM XML format (``.osm``, also ``.osm.gz`` and
``.osm.bz2``) with the standard library's streaming ``iterparse``: ways with a ``highway``
tag that the travel mode may use become edges between consecutive nodes, weighted by
their great-circle length; shortest distances come from scipy's Dijkstra on a sparse
matrix. What it is not: a PBF reader (convert with ``osmium cat in.pbf -o out.osm``), a
turn-restriction or elevation model, or a router with speeds per road class — one speed
per travel mode, as the straight-line model has.

Mode rules: walking uses every highway but motorways and trunk roads (and ways tagged
``foot=no``), in both directions; e-bikes use every highway but motorways, trunk roads,
steps and ways tagged ``bicycle=no``, and respect ``oneway`` (unless
``oneway:bicycle=no``). Ways under construction, ``access=no``/``private`` are left out.
"""

from __future__ import annotations

import bz2
import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from tongban.dispatch import geo

_NEVER = {
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "construction",
    "proposed",
    "raceway",
    "bus_guideway",
    "abandoned",
    "platform",
    "corridor",
    "elevator",
}
_EXCLUDE = {"walk": _NEVER, "ebike": _NEVER | {"steps"}}
_NO_ACCESS = {"no", "private"}


def _allowed(tags: dict[str, str], mode: str) -> bool:
    hw = tags.get("highway")
    if not hw or hw in _EXCLUDE[mode] or tags.get("area") == "yes":
        return False
    if tags.get("access") in _NO_ACCESS:
        return tags.get("foot" if mode == "walk" else "bicycle") in {"yes", "designated"}
    if mode == "walk":
        return tags.get("foot") != "no"
    return tags.get("bicycle") != "no"


def _direction(tags: dict[str, str], mode: str) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    if mode == "walk" or tags.get("oneway:bicycle") == "no":
        return 0
    ow = tags.get("oneway")
    if ow in {"yes", "true", "1"}:
        return 1
    if ow == "-1":
        return -1
    if tags.get("junction") == "roundabout" and ow != "no":
        return 1
    return 0


def _open(source) -> IO[bytes]:
    if hasattr(source, "read"):
        return source
    path = Path(source)
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115 (closed by the caller)


@dataclass
class RoadGraph:
    """Nodes (``lat``, ``lng``) and a directed sparse matrix of edge lengths in km."""

    lat: np.ndarray
    lng: np.ndarray
    matrix: sparse.csr_matrix
    mode: str = "walk"

    @classmethod
    def from_osm(cls, source, mode: str = "walk") -> RoadGraph:
        """Read an OSM XML file (path or binary file object) for ``mode`` ("walk"/"ebike")."""
        if mode not in _EXCLUDE:
            raise ValueError(f"unknown travel mode {mode!r}")
        node_pos: dict[int, tuple[float, float]] = {}
        ways: list[tuple[list[int], int]] = []
        f = _open(source)
        try:
            refs: list[int] = []
            tags: dict[str, str] = {}
            for event, el in ET.iterparse(f, events=("start", "end")):
                tag = el.tag
                if event == "start":
                    if tag == "way":
                        refs, tags = [], {}
                    continue
                if tag == "node":
                    node_pos[int(el.get("id"))] = (float(el.get("lat")), float(el.get("lon")))
                    el.clear()
                elif tag == "nd":
                    refs.append(int(el.get("ref")))
                elif tag == "tag":
                    tags[el.get("k")] = el.get("v")
                elif tag == "way":
                    if len(refs) > 1 and _allowed(tags, mode):
                        ways.append((refs, _direction(tags, mode)))
                    el.clear()
                elif tag == "relation":
                    el.clear()
        finally:
            if f is not source:
                f.close()
        index: dict[int, int] = {}
        tails: list[int] = []
        heads: list[int] = []
        for refs, direction in ways:
            ids = []
            for r in refs:
                if r not in node_pos:  # way running off the extract
                    ids.append(-1)
                    continue
                if r not in index:
                    index[r] = len(index)
                ids.append(index[r])
            for a, b in zip(ids, ids[1:], strict=False):
                if a < 0 or b < 0 or a == b:
                    continue
                if direction >= 0:
                    tails.append(a)
                    heads.append(b)
                if direction <= 0:
                    tails.append(b)
                    heads.append(a)
        n = len(index)
        lat = np.empty(n)
        lng = np.empty(n)
        for osm_id, i in index.items():
            lat[i], lng[i] = node_pos[osm_id]
        t = np.asarray(tails, dtype=np.int64)
        h = np.asarray(heads, dtype=np.int64)
        w = geo.distance_km(lat[t], lng[t], lat[h], lng[h]) if len(t) else np.zeros(0)
        w = np.maximum(w, 1e-9)  # scipy reads an explicit 0 as "no edge"
        # keep the shortest of parallel edges (coo→csr would add them up)
        order = np.lexsort((w, h, t))
        t, h, w = t[order], h[order], w[order]
        first = np.ones(len(t), bool)
        first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
        m = sparse.csr_matrix((w[first], (t[first], h[first])), shape=(n, n))
        return cls(lat, lng, m, mode)

    @property
    def nodes(self) -> int:
        return len(self.lat)

    def snap(self, lat, lng) -> tuple[np.ndarray, np.ndarray]:
        """Nearest graph node of each point and the straight-line km to it."""
        if not hasattr(self, "_tree"):
            self._tree = cKDTree(geo.to_xyz(self.lat, self.lng))
        _, node = self._tree.query(geo.to_xyz(lat, lng).reshape(-1, 3), k=1, workers=-1)
        node = np.asarray(node, dtype=np.int64).reshape(-1)
        km = geo.distance_km(np.ravel(lat), np.ravel(lng), self.lat[node], self.lng[node])
        return node, km

    def to_nearest(self, site_lat, site_lng, limit_km: float = np.inf):
        """Road km from every node *to* the nearest site (sites snap to their nearest node,
        the snap leg counted straight), and which site that is (−1: none within
        ``limit_km``). Travel runs towards the site, so one-way streets count that way."""
        n = self.nodes
        site_node, site_km = self.snap(site_lat, site_lng)
        best_site: dict[int, int] = {}  # a node's nearest site among those snapped to it
        for s, (node, km) in enumerate(zip(site_node.tolist(), site_km.tolist(), strict=True)):
            if node not in best_site or km < site_km[best_site[node]]:
                best_site[node] = s
        src_nodes = np.fromiter(best_site.keys(), np.int64, len(best_site))
        src_km = site_km[np.fromiter(best_site.values(), np.int64, len(best_site))]
        # reversed graph plus a super source (node n) linked to every site's node
        rev = self.matrix.T.tocsr()
        extra = sparse.csr_matrix(
            (np.maximum(src_km, 1e-9), (np.full(len(src_nodes), n), src_nodes)),
            shape=(n + 1, n + 1),
        )
        g = sparse.bmat([[rev, None], [None, sparse.csr_matrix((1, 1))]], format="csr") + extra
        dist, pred = dijkstra(g, directed=True, indices=n, limit=limit_km, return_predecessors=True)
        dist = dist[:n]
        pred = pred[:n]
        # label each reached node with its site, in order of distance (parents first)
        label = np.full(n, -1, dtype=np.int64)
        reached = np.flatnonzero(np.isfinite(dist))
        for v in reached[np.argsort(dist[reached], kind="stable")].tolist():
            p = pred[v]
            label[v] = best_site[v] if p == n else label[p]
        return dist, label
