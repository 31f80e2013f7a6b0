"""Benchmark: the request router against the plain baseline, on the same data, in one run.

    .venv/bin/python bench/routing.py            # the real protocol (a few minutes)
    .venv/bin/python bench/routing.py --quick    # fewer timings, baseline load not timed
    .venv/bin/python bench/routing.py --json     # … and one JSON object as the last line
    .venv/bin/python bench/routing.py --method holdout   # the earlier threshold protocol

Both models get exactly the training data of ``tongban.routing.train.prepare``: the
messages outside the fixed 20 % test split plus the training titles, minus anything that
nearly duplicates a test message or a dev title. For each model:

* macro-F1 on the held-out message bodies (the targets are about these) and dev titles;
* the automatic-routing threshold, chosen for 99 % precision on training data the model
  scoring it had not seen (``--method crossfit``, the default and what ``tongban routing
  train`` does: out-of-fold predictions on the training message bodies; ``holdout``: a
  held-back 20 % of the training pool, then a refit), then measured on the test split:
  the share routed automatically and the precision actually achieved there;
* classify latency per single request (one text per call, after a warm-up), p50 and p99,
  over the test messages;
* training time (fit and threshold choice, cross-fitting included), model file size, and
  load time (in this process, and in a fresh interpreter including its imports).

--quick times 200 requests instead of all test messages and does not time saving and
loading the baseline; with ``--method holdout`` it also skips the refit on the held-back
part. Both models always get the same protocol in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tongban.routing import train as training  # noqa: E402  (after the path set-up)
from tongban.routing.model import Router, baseline  # noqa: E402

TARGETS = {
    "macro_f1_messages": 0.95,
    "auto_share": 0.85,
    "auto_precision": 0.99,
    "latency_p99_ms": 20.0,
    "load_seconds": 1.0,
}

_COLD_LOAD = """
import sys, time
t = time.perf_counter()
from tongban.routing.model import {cls}
{cls}.load(sys.argv[1])
print(time.perf_counter() - t)
"""


def _latencies(model, texts: list[str]) -> dict[str, float]:
    for text in texts[:20]:  # warm-up: tokenizer, caches, first-call allocations
        model.predict([text])
    wall, cpu = [], []
    for text in texts:
        started, started_cpu = time.perf_counter(), time.process_time()
        model.predict([text])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    # Wall-clock time is the latency a caller sees; CPU time is what the model costs, and
    # the fairer figure when other work shares the machine.
    return {
        "latency_p50_ms": float(np.percentile(wall, 50)),
        "latency_p99_ms": float(np.percentile(wall, 99)),
        "latency_max_ms": float(np.max(wall)),
        "latency_cpu_p50_ms": float(np.percentile(cpu, 50)),
        "latency_cpu_p99_ms": float(np.percentile(cpu, 99)),
        "latency_samples": len(wall),
        "load_average": round(os.getloadavg()[0], 1),
    }


def _load_times(model, directory: Path) -> dict[str, float]:
    path = model.save(directory / f"{model.kind}.joblib")
    started = time.perf_counter()
    type(model).load(path)
    warm = time.perf_counter() - started
    cold = subprocess.run(
        [sys.executable, "-c", _COLD_LOAD.format(cls=type(model).__name__), str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return {
        "model_bytes": path.stat().st_size,
        "load_seconds": round(warm, 3),
        "load_seconds_cold_process": round(float(cold.stdout.strip().splitlines()[-1]), 3),
    }


def bench_model(
    name,
    factory,
    data,
    seed: int,
    quick: bool,
    directory: Path,
    time_loading: bool = True,
    method: str = "crossfit",
) -> dict:
    print(f"[{name}] training…", file=sys.stderr, flush=True)
    started, started_cpu = time.perf_counter(), time.process_time()
    model, selection = training.fit_with_threshold(
        factory, data, seed, refit=not quick, method=method
    )
    train_seconds = time.perf_counter() - started
    train_cpu_seconds = time.process_time() - started_cpu
    print(f"[{name}] trained in {train_seconds:.1f} s; measuring…", file=sys.stderr, flush=True)
    messages = training.evaluate(
        model, [e.text for e in data.message_test], [e.label for e in data.message_test]
    )
    titles = training.evaluate(
        model, [e.text for e in data.title_dev], [e.label for e in data.title_dev]
    )
    sample = [e.text for e in data.message_test]
    if quick:
        sample = random.Random(seed).sample(sample, min(200, len(sample)))
    return {
        "macro_f1_messages": messages["macro_f1"],
        "accuracy_messages": messages["accuracy"],
        "macro_f1_titles": titles["macro_f1"],
        "accuracy_titles": titles["accuracy"],
        "threshold": messages["threshold"],
        "auto_share": messages["auto_share"],
        "auto_precision": messages["auto_precision"],
        "auto_share_titles": titles["auto_share"],
        "auto_precision_titles": titles["auto_precision"],
        "threshold_method": selection["method"],
        "held_back_auto_share": selection["held_back_auto_share"],
        "held_back_auto_precision": selection["held_back_auto_precision"],
        "held_back_messages_auto_share": selection["per_source"]
        .get("message", {})
        .get("auto_share"),
        "held_back_messages_auto_precision": selection["per_source"]
        .get("message", {})
        .get("auto_precision"),
        "per_class_f1_messages": messages["per_class_f1"],
        "train_seconds": round(train_seconds, 2),
        "train_cpu_seconds": round(train_cpu_seconds, 2),
        **_latencies(model, sample),
        **(
            _load_times(model, directory)
            if time_loading
            else {"model_bytes": None, "load_seconds": None, "load_seconds_cold_process": None}
        ),
    }


def _met(main: dict) -> dict[str, bool]:
    precision = main["auto_precision"] or 0.0
    return {
        "macro_f1_messages >= 0.95": main["macro_f1_messages"] >= TARGETS["macro_f1_messages"],
        "auto_share >= 0.85 at precision >= 0.99": (
            main["auto_share"] >= TARGETS["auto_share"] and precision >= TARGETS["auto_precision"]
        ),
        "auto_precision >= 0.99 (measured on test)": precision >= TARGETS["auto_precision"],
        "latency_p99_ms <= 20": main["latency_p99_ms"] <= TARGETS["latency_p99_ms"],
        "latency_cpu_p99_ms <= 20 (CPU time per request)": (
            main["latency_cpu_p99_ms"] <= TARGETS["latency_p99_ms"]
        ),
        "load_seconds < 1": main["load_seconds"] < TARGETS["load_seconds"],
    }


def _ratios(main: dict, base: dict) -> dict[str, float | None]:
    keys = (
        "macro_f1_messages",
        "macro_f1_titles",
        "auto_share",
        "auto_precision",
        "latency_p50_ms",
        "latency_p99_ms",
        "latency_cpu_p99_ms",
        "train_seconds",
        "model_bytes",
        "load_seconds",
    )
    return {k: (main[k] / base[k] if main[k] is not None and base[k] else None) for k in keys}


def _fmt(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.4f}" if abs(x) < 10 else f"{x:.1f}"
    return str(x)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="finish within a minute")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--method",
        choices=("crossfit", "holdout"),
        default="crossfit",
        help="how the threshold is chosen (default: crossfit, as tongban routing train does)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = training.prepare(args.seed)
    prepare_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        results = {
            "main": bench_model(
                "main", Router, data, args.seed, args.quick, Path(tmp), method=args.method
            ),
            # Saving and loading the baseline (a pickled 1-million-entry vocabulary) takes
            # ten seconds or more: only the full run times it.
            "baseline": bench_model(
                "baseline",
                baseline,
                data,
                args.seed,
                args.quick,
                Path(tmp),
                not args.quick,
                method=args.method,
            ),
        }
    met = _met(results["main"])
    report = {
        "bench": "routing",
        "quick": args.quick,
        "seed": args.seed,
        "threshold_method": args.method,
        "data": data.sizes(args.method),
        "prepare_seconds": round(prepare_seconds, 2),
        "targets": TARGETS,
        **results,
        "targets_met": met,
        "ratio_main_to_baseline": _ratios(results["main"], results["baseline"]),
        "total_seconds": round(time.perf_counter() - started, 1),
    }

    print(
        f"routing bench ({'quick' if args.quick else 'full'}), seed {args.seed}, "
        f"threshold by {args.method}"
    )
    print(f"data: {data.sizes(args.method)}")
    rows = [
        "macro_f1_messages",
        "macro_f1_titles",
        "threshold",
        "auto_share",
        "auto_precision",
        "auto_share_titles",
        "auto_precision_titles",
        "held_back_messages_auto_share",
        "held_back_messages_auto_precision",
        "latency_p50_ms",
        "latency_p99_ms",
        "latency_cpu_p50_ms",
        "latency_cpu_p99_ms",
        "load_average",
        "train_seconds",
        "train_cpu_seconds",
        "model_bytes",
        "load_seconds",
        "load_seconds_cold_process",
    ]
    print(f"{'':28}{'main':>14}{'baseline':>14}{'main/base':>12}")
    for key in rows:
        ratio = report["ratio_main_to_baseline"].get(key)
        print(
            f"{key:28}{_fmt(results['main'][key]):>14}{_fmt(results['baseline'][key]):>14}"
            f"{_fmt(ratio) if ratio is not None else '':>12}"
        )
    print("targets (main model):")
    for name, ok in met.items():
        print(f"  {'met    ' if ok else 'NOT met'}  {name}")
    print(f"total {report['total_seconds']} s")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
