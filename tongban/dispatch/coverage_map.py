"""A coverage result as an ECharts option for an offline map page; see
``tongban.dispatch.coverage``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tongban.dispatch.reach import Coverage, _arr
from tongban.dispatch.siting import Suggestion


def map_data(
    points_lat,
    points_lng,
    result: Coverage,
    sites_lat,
    sites_lng,
    *,
    site_names: Sequence[str] | None = None,
    suggestions: Sequence[Suggestion] = (),
    bins: int = 120,
    title: str | None = None,
) -> dict[str, Any]:
    """An ECharts ``option`` (plus ``summary``) for an offline map page: residents
    aggregated into ``bins × bins`` cells (covered in green, not covered in red, symbol
    size by population), sites as blue pins, suggestions as numbered orange pins. The axes
    are longitude and latitude; keep the chart's width/height near ``aspect`` (given in
    the result) so distances look right."""
    plat, plng = _arr(points_lat), _arr(points_lng)
    slat, slng = _arr(sites_lat), _arr(sites_lng)
    all_lat = np.concatenate([plat, slat, [s.lat for s in suggestions]])
    all_lng = np.concatenate([plng, slng, [s.lng for s in suggestions]])
    if not len(all_lat):
        all_lat = all_lng = np.zeros(1)
    lat0, lat1 = float(all_lat.min()), float(all_lat.max())
    lng0, lng1 = float(all_lng.min()), float(all_lng.max())
    span_lat = max(lat1 - lat0, 1e-6)
    span_lng = max(lng1 - lng0, 1e-6)

    def cells(mask):
        if not mask.any():
            return []
        i = np.minimum(((plat[mask] - lat0) / span_lat * bins).astype(np.int64), bins - 1)
        j = np.minimum(((plng[mask] - lng0) / span_lng * bins).astype(np.int64), bins - 1)
        cell = i * bins + j
        w = np.bincount(cell, weights=result.population[mask], minlength=bins * bins)
        # population-weighted centre of each cell
        clat = np.bincount(cell, weights=plat[mask] * result.population[mask], minlength=bins**2)
        clng = np.bincount(cell, weights=plng[mask] * result.population[mask], minlength=bins**2)
        nz = np.flatnonzero(w > 0)
        return [
            [
                round(float(clng[c] / w[c]), 6),
                round(float(clat[c] / w[c]), 6),
                round(float(w[c]), 1),
            ]
            for c in nz
        ]

    covered = cells(result.reached)
    uncovered = cells(~result.reached)
    max_pop = max([c[2] for c in covered + uncovered] or [1.0])
    names = (
        list(site_names) if site_names is not None else [f"站点{i + 1}" for i in range(len(slat))]
    )
    summary = result.summary()
    if title is None:
        label = result.mode.label or result.mode.name
        title = f"{int(result.minutes_limit)} 分钟{label}服务圈：覆盖人口 {summary['ratio']:.1%}"
    mid = np.radians((lat0 + lat1) / 2)
    option = {
        "title": {"text": title, "left": "center"},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0, "data": ["可达", "不可达", "现有站点", "建议新址"]},
        "grid": {"left": 60, "right": 30, "top": 50, "bottom": 60},
        "xAxis": {
            "type": "value",
            "name": "经度",
            "min": lng0,
            "max": lng1,
            "scale": True,
            "splitLine": {"show": False},
        },
        "yAxis": {
            "type": "value",
            "name": "纬度",
            "min": lat0,
            "max": lat1,
            "scale": True,
            "splitLine": {"show": False},
        },
        "visualMap": {
            "show": False,
            "type": "continuous",
            "dimension": 2,
            "seriesIndex": [0, 1],
            "min": 0,
            "max": max_pop,
            "inRange": {"symbolSize": [3, 16]},
        },
        "series": [
            {
                "name": "可达",
                "type": "scatter",
                "data": covered,
                "itemStyle": {"color": "#52a447", "opacity": 0.6},
                "large": True,
            },
            {
                "name": "不可达",
                "type": "scatter",
                "data": uncovered,
                "itemStyle": {"color": "#d64a3b", "opacity": 0.6},
                "large": True,
            },
            {
                "name": "现有站点",
                "type": "scatter",
                "symbol": "pin",
                "symbolSize": 18,
                "itemStyle": {"color": "#2f6fb3"},
                "data": [
                    [round(float(x), 6), round(float(y), 6), n]
                    for x, y, n in zip(slng, slat, names, strict=True)
                ],
            },
            {
                "name": "建议新址",
                "type": "effectScatter",
                "symbol": "pin",
                "symbolSize": 24,
                "itemStyle": {"color": "#f08c00"},
                "label": {"show": True, "formatter": "{@[2]}", "position": "inside"},
                "data": [[s.lng, s.lat, s.rank, round(s.added_population, 1)] for s in suggestions],
            },
        ],
    }
    summary["aspect"] = float(span_lng * np.cos(mid) / span_lat)
    summary["suggestions"] = [
        {
            "rank": s.rank,
            "lat": s.lat,
            "lng": s.lng,
            "added_population": s.added_population,
            "ratio": s.ratio,
        }
        for s in suggestions
    ]
    return {"option": option, "summary": summary}
