"""Choosing the automatic-routing threshold and measuring a router on labelled texts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tongban.routing.data import LABELS

TARGET_PRECISION = 0.99


def lowest_threshold(
    confidences: Sequence[float], correct: Sequence[bool], target: float = TARGET_PRECISION
) -> float:
    """The lowest confidence t such that predictions with confidence ≥ t are right at least
    ``target`` of the time; ``inf`` if no t achieves it. Ties are kept together.
    """
    conf = np.asarray(confidences, dtype=np.float64)
    right = np.asarray(correct, dtype=bool)
    if conf.size == 0:
        return math.inf
    order = np.argsort(-conf, kind="stable")
    conf, right = conf[order], right[order]
    precision = np.cumsum(right) / np.arange(1, conf.size + 1)
    # a cut may only fall after the last of equal confidences
    last_of_tie = np.r_[conf[1:] != conf[:-1], True]
    good = np.flatnonzero((precision >= target) & last_of_tie)
    return float(conf[good[-1]]) if good.size else math.inf


def choose_threshold(
    confidences: Sequence[float],
    correct: Sequence[bool],
    sources: Sequence[str],
    target: float = TARGET_PRECISION,
    choose_on: Sequence[str] | None = None,
) -> tuple[float, dict[str, Any]]:
    """The threshold for held-back predictions (:func:`lowest_threshold` over those whose
    source is in ``choose_on``; all of them if None), and what it does on them: the
    ``held_back_*`` figures over the rows it was chosen on, and per source (message
    bodies, titles).
    """
    conf = np.asarray(confidences, dtype=np.float64)
    right = np.asarray(correct, dtype=bool)
    src = np.asarray(sources, dtype=object)
    chosen_on = np.ones(conf.size, dtype=bool) if choose_on is None else np.isin(src, choose_on)
    threshold = lowest_threshold(conf[chosen_on], right[chosen_on], target)
    auto = conf >= threshold

    def outcome(mask: np.ndarray) -> dict[str, Any]:
        chosen = auto & mask
        return {
            "rows": int(mask.sum()),
            "auto_share": float(chosen.sum() / mask.sum()) if mask.any() else 0.0,
            "auto_precision": float(right[chosen].mean()) if chosen.any() else None,
        }

    info = {
        "target_precision": target,
        "chosen_on": "all" if choose_on is None else list(choose_on),
        "chosen_on_rows": int(chosen_on.sum()),
        "held_back_rows": int(chosen_on.sum()),
        "held_back_auto_share": outcome(chosen_on)["auto_share"],
        "held_back_auto_precision": outcome(chosen_on)["auto_precision"],
        "per_source": {s: outcome(src == s) for s in sorted(set(src.tolist()))},
    }
    return threshold, info


def display_order(labels: Iterable[str]) -> list[str]:
    """Labels in the data's fixed order, unknown ones after, alphabetically."""
    present = set(labels)
    return [lab for lab in LABELS if lab in present] + sorted(present - set(LABELS))


def evaluate(router: Any, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Scores of ``router`` on labelled texts.

    ``accuracy``, ``macro_f1`` (mean F1 over the categories that occur in the labels or the
    predictions), ``per_class_f1``, ``confusion`` (``labels`` and ``matrix``, rows = true,
    columns = predicted), and at the router's ``threshold``: ``auto_share`` (part routed
    automatically), ``auto_precision`` (part of those routed right; None if none was).
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("nothing to evaluate: no texts")
    unknown = sorted(set(labels) - set(router.classes))
    if unknown:
        raise ValueError(
            f"unknown label(s) {', '.join(unknown)} (the model knows: {', '.join(router.classes)})"
        )
    predictions = router.predict(list(texts))
    predicted = [p for p, _ in predictions]
    confidence = np.array([c for _, c in predictions])
    right = np.array([p == y for p, y in zip(predicted, labels, strict=True)])
    order = display_order(list(router.classes) + list(labels))
    position = {lab: i for i, lab in enumerate(order)}
    matrix = np.zeros((len(order), len(order)), dtype=int)
    for y, p in zip(labels, predicted, strict=True):
        matrix[position[y], position[p]] += 1
    per_class = {}
    for lab in order:
        i = position[lab]
        tp = matrix[i, i]
        support, predicted_n = matrix[i].sum(), matrix[:, i].sum()
        if support or predicted_n:
            per_class[lab] = float(2 * tp / (support + predicted_n))
    auto = confidence >= router.threshold
    return {
        "n": len(texts),
        "accuracy": float(right.mean()),
        "macro_f1": float(np.mean(list(per_class.values()))),
        "per_class_f1": per_class,
        "confusion": {"labels": order, "matrix": matrix.tolist()},
        "threshold": _finite(router.threshold),
        "auto_share": float(auto.mean()),
        "auto_count": int(auto.sum()),
        "auto_precision": float(right[auto].mean()) if auto.any() else None,
    }


def _finite(x: float) -> float | None:
    return None if x is None or math.isinf(x) or math.isnan(x) else float(x)
