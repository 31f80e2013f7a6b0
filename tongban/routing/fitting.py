"""Fitting helpers of the request router: grouped folds, the one-vs-rest NB-SVM and Platt
calibration (see ``tongban.routing.model`` for the design)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SVM_C = 1.0
NB_ALPHA = 1.0


def _group_folds(
    y: np.ndarray, groups: Sequence[int] | None, n_folds: int, seed: int
) -> np.ndarray:
    """A fold number per row: groups whole, each category spread evenly over the folds.

    (scikit-learn's StratifiedGroupKFold does this too, but takes seconds on 10 000 rows.)
    """
    group_ids = np.arange(len(y)) if groups is None else np.asarray(groups)
    members: dict[Any, list[int]] = {}
    for row, g in enumerate(group_ids.tolist()):
        members.setdefault(g, []).append(row)
    rng = np.random.default_rng(seed)
    keys = list(members)
    rng.shuffle(keys)
    # largest groups first, then each group to the fold with fewest rows of its category
    keys.sort(key=lambda g: -len(members[g]))
    load = np.zeros((n_folds, int(y.max()) + 1), dtype=int)
    fold = np.empty(len(y), dtype=int)
    for g in keys:
        rows = members[g]
        label = int(np.bincount(y[rows]).argmax())
        f = int(np.argmin(load[:, label] + load.sum(axis=1) * 1e-6))
        fold[rows] = f
        load[f] += np.bincount(y[rows], minlength=load.shape[1])
    return fold


def _nb_svm(X, y: np.ndarray, n_classes: int, weights: np.ndarray, seed: int):
    """One-vs-rest NB-SVM (Wang & Manning 2012): for each category, scale the features by
    their log-count ratio (how much likelier a feature is in that category's texts than in
    the others', Laplace-smoothed) and fit a binary linear SVM on the scaled features.

    Returns ``(coef, intercept)`` of the equivalent linear model on the unscaled features
    (``coef`` is features × categories): the scaling folds into the weights, so
    classifying costs the same as a plain linear SVM.
    """
    from sklearn.svm import LinearSVC

    present = X.copy()
    present.data[:] = 1
    coef = np.zeros((X.shape[1], n_classes))
    intercept = np.zeros(n_classes)
    for k in range(n_classes):
        mine = (y == k) * weights
        if not mine.any():  # a category absent from a calibration fold: never predicted
            intercept[k] = -10.0
            continue
        pos = present.T @ mine + NB_ALPHA
        neg = present.T @ ((y != k) * weights) + NB_ALPHA
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
        scaled = X.copy()
        scaled.data *= ratio[scaled.indices]
        svm = LinearSVC(C=SVM_C, random_state=seed).fit(scaled, y == k, sample_weight=weights)
        coef[:, k] = svm.coef_.ravel() * ratio
        intercept[k] = svm.intercept_[0]
    return coef, intercept


def _calibrate(scores: np.ndarray, platt: np.ndarray) -> np.ndarray:
    z = np.clip(platt[0] * scores + platt[1], -50, 50)
    p = 1.0 / (1.0 + np.exp(-z))
    total = p.sum()
    return p / total if total > 0 else np.full_like(p, 1.0 / len(p))
