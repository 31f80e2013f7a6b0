"""Distances on the Earth: haversine in kilometres, and 3-D points for KD-tree searches.

Every distance the planner compares with a volunteer's ``max_km`` or turns into a cost comes
from :func:`distance_km` (vectorised haversine). KD-trees work on points of the sphere in
3-D (:func:`to_xyz`), where the straight chord between two points grows monotonically with
the great-circle distance: a ball of radius :func:`chord_km` (``d``) holds exactly the points
within ``d`` km along the sphere, so a tree search never misses one (the radius is widened
by a hair and candidates are re-checked with :func:`distance_km`).
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def distance_km(lat1, lng1, lat2, lng2) -> np.ndarray:
    """Great-circle distance in km (haversine); arguments in degrees, broadcast like numpy."""
    lat1 = np.radians(np.asarray(lat1, dtype=np.float64))
    lat2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlat = lat2 - lat1
    dlng = np.radians(np.asarray(lng2, dtype=np.float64) - np.asarray(lng1, dtype=np.float64))
    h = np.sin(dlat / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlng / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def metres(km) -> np.ndarray:
    """Kilometres to whole metres (int64), the unit of every cost in the solver."""
    return np.rint(np.asarray(km, dtype=np.float64) * 1000.0).astype(np.int64)


def to_xyz(lat, lng) -> np.ndarray:
    """Points on a sphere of the Earth's radius, shape (n, 3), for KD-trees."""
    lat = np.radians(np.asarray(lat, dtype=np.float64))
    lng = np.radians(np.asarray(lng, dtype=np.float64))
    c = np.cos(lat)
    return EARTH_RADIUS_KM * np.stack([c * np.cos(lng), c * np.sin(lng), np.sin(lat)], axis=-1)


def chord_km(arc_km) -> np.ndarray:
    """Straight-line (chord) length of a great-circle arc of ``arc_km``, widened by a hair
    so a tree search with it is never short of a point exactly at the distance."""
    arc = np.minimum(np.asarray(arc_km, dtype=np.float64), np.pi * EARTH_RADIUS_KM)
    return 2.0 * EARTH_RADIUS_KM * np.sin(arc / (2.0 * EARTH_RADIUS_KM)) * (1 + 1e-9) + 1e-9


def arc_km(chord) -> np.ndarray:
    """Great-circle distance of a chord length (inverse of :func:`chord_km`, without the hair)."""
    c = np.asarray(chord, dtype=np.float64) / (2.0 * EARTH_RADIUS_KM)
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(c, 0.0, 1.0))
