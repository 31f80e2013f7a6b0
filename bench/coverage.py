#!/usr/bin/env python
"""Benchmark: 15-minute service circles — 1 M residential points × 5 k sites.

    .venv/bin/python bench/coverage.py [--quick] [--json] [--seed N] [--strict]

A synthetic city around Suzhou (31.30 N, 120.62 E): 300 communities thinning out from the
core; 1,000,000 residential points around them with populations of 1–25 (a building, a
courtyard); 5,000 sites (service stations, testing sites) placed near the people, so the
dense core is covered and the edges are not. --quick: 100 k points, 500 sites.

Measured, each in the same process: ``coverage`` for walking (5 km/h) and e-bike
(15 km/h), 15 minutes, detour 1.3 (the target: ≤ 10 s for walking at full size);
``suggest_sites`` — 10 new sites out of 2,000 candidates (uncovered residential points
drawn at random) by lazy greedy maximum coverage; ``map_data`` (the ECharts option).

Checked, outside the timing: for 2,000 random points the distance to *every* site is
computed by brute force and the reached flags must agree (``mismatches`` = 0); the
greedy's added populations must not increase (they are a greedy sequence).

JSON (last line with --json): ``seconds`` (walking coverage), ``ratio``, the e-bike and
suggestion figures. --strict exits 1 when the target is missed or a check fails.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tongban.dispatch import EBIKE, WALK, coverage, geo, map_data, suggest_sites  # noqa: E402

CENTRE = (31.30, 120.62)
KM_LAT = 111.2
TARGET_SECONDS = 10.0


def _offsets(rng, n, sigma_km):
    lat = rng.normal(0, sigma_km, n) / KM_LAT
    lng = rng.normal(0, sigma_km, n) / (KM_LAT * np.cos(np.radians(CENTRE[0])))
    return lat, lng


def city(n_points: int, n_sites: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_comm = 300
    clat, clng = _offsets(rng, n_comm, 9.0)
    clat += CENTRE[0]
    clng += CENTRE[1]
    weight = rng.pareto(1.5, n_comm) + 1
    weight /= weight.sum()
    home = rng.choice(n_comm, n_points, p=weight)
    plat, plng = _offsets(rng, n_points, 1.5)
    plat += clat[home]
    plng += clng[home]
    pop = rng.integers(1, 26, n_points).astype(np.float64)  # a building: 1–25 people
    # sites near people: a random resident's place, nudged by up to ~300 m
    pick = rng.choice(n_points, n_sites, replace=False)
    slat, slng = _offsets(rng, n_sites, 0.3)
    slat += plat[pick]
    slng += plng[pick]
    return plat, plng, pop, slat, slng


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 k points, 500 sites")
    ap.add_argument("--json", action="store_true", help="print one JSON object last")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    n_points = 100_000 if args.quick else 1_000_000
    n_sites = 500 if args.quick else 5_000

    def say(*a):
        print(*a, file=sys.stderr if args.json else sys.stdout, flush=True)

    plat, plng, pop, slat, slng = city(n_points, n_sites, args.seed)
    say(f"city: {n_points:,} residential points ({pop.sum():,.0f} people), {n_sites:,} sites")

    walk, w_s, w_cpu = timed(lambda: coverage(plat, plng, slat, slng, pop, mode=WALK))
    say(
        f"walk 15 min:  {w_s:5.2f} s (cpu {w_cpu:.2f})  covered {walk.ratio:.1%} of people, "
        f"{walk.points_reached:,} points"
    )
    bike, b_s, b_cpu = timed(lambda: coverage(plat, plng, slat, slng, pop, mode=EBIKE))
    say(f"e-bike 15 min: {b_s:5.2f} s (cpu {b_cpu:.2f})  covered {bike.ratio:.1%}")

    rng = np.random.default_rng(args.seed + 1)
    uncovered = np.flatnonzero(~walk.reached)
    cand = rng.choice(uncovered, min(2000, len(uncovered)), replace=False)
    sugg, s_s, s_cpu = timed(
        lambda: suggest_sites(
            plat[cand], plng[cand], plat, plng, pop, k=10, sites_lat=slat, sites_lng=slng, mode=WALK
        )
    )
    say(
        f"suggest 10 of {len(cand):,} candidates: {s_s:5.2f} s (cpu {s_cpu:.2f})  "
        f"coverage {walk.ratio:.1%} → {sugg[-1].ratio if sugg else walk.ratio:.1%}"
    )
    page, m_s, _ = timed(lambda: map_data(plat, plng, walk, slat, slng, suggestions=sugg))
    page_bytes = len(json.dumps(page, ensure_ascii=False).encode())
    say(f"map data:     {m_s:5.2f} s  {page_bytes / 1e6:.2f} MB of JSON")

    # brute-force check on a sample: every site, no tree
    sample = rng.choice(n_points, 2000, replace=False)
    radius = WALK.straight_km(15)
    mismatches = 0
    for chunk in np.array_split(sample, 20):
        d = geo.distance_km(plat[chunk, None], plng[chunk, None], slat[None, :], slng[None, :])
        truth = (d.min(axis=1) * WALK.detour / WALK.speed_kmh * 60) <= 15 * (1 + 1e-12)
        mismatches += int((truth != walk.reached[chunk]).sum())
    gains = [s.added_population for s in sugg]
    greedy_ok = all(a >= b - 1e-9 for a, b in zip(gains, gains[1:], strict=False))
    say(
        f"check: {mismatches} mismatches with brute force on 2,000 points "
        f"(radius {radius:.3f} km straight); greedy gains non-increasing: {greedy_ok}"
    )

    ok = {"seconds": w_s <= TARGET_SECONDS, "brute_force": mismatches == 0, "greedy": greedy_ok}
    result = {
        "bench": "coverage",
        "quick": args.quick,
        "seed": args.seed,
        "points": n_points,
        "sites": n_sites,
        "population": float(pop.sum()),
        "seconds": round(w_s, 3),
        "cpu_seconds": round(w_cpu, 3),
        "ratio": round(walk.ratio, 4),
        "points_reached": walk.points_reached,
        "ebike": {"seconds": round(b_s, 3), "ratio": round(bike.ratio, 4)},
        "suggest": {
            "seconds": round(s_s, 3),
            "candidates": int(len(cand)),
            "k": len(sugg),
            "ratio_after": round(sugg[-1].ratio, 4) if sugg else None,
            "added_population": [round(g, 1) for g in gains],
        },
        "map_data": {"seconds": round(m_s, 3), "json_bytes": page_bytes},
        "mismatches": mismatches,
        "target_seconds": TARGET_SECONDS,
        "targets_met": ok,
        "python": platform.python_version(),
    }
    say(f"target: walking coverage ≤ {TARGET_SECONDS:.0f} s: {ok['seconds']}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 1 if args.strict and not all(ok.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
