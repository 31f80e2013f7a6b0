"""The baseline router: the plain comparison model of ``bench/routing.py``."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tongban.routing.persist import ModelError, Predicting, _dump, _load

BASELINE_FORMAT = "tongban-routing-baseline/1"


class BaselineRouter(Predicting):
    """Character 1–3-gram TF-IDF + ``LinearSVC`` with scikit-learn's defaults.

    It has no probabilities; its confidence is the softmax of the SVM scores, which ranks
    predictions well enough to choose an automatic-routing threshold the same way.
    """

    kind = "baseline"

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed
        self.classes: tuple[str, ...] = ()
        self.threshold: float = math.inf
        self.meta: dict[str, Any] = {}
        self._pipeline = None

    def fit(self, texts: Sequence[str], labels: Sequence[str], **_: Any) -> BaselineRouter:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        started = time.perf_counter()
        self._pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3)),
            LinearSVC(random_state=self.seed),  # defaults, made repeatable
        ).fit(list(texts), list(labels))
        self.classes = tuple(str(c) for c in self._pipeline.classes_)
        self.meta = {
            **self.meta,
            "fit_rows": len(texts),
            "fit_seconds": round(time.perf_counter() - started, 2),
        }
        return self

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        if self._pipeline is None:
            raise ModelError("the baseline is not trained")
        scores = self._pipeline.decision_function(list(texts))
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def save(self, path: str | Path) -> Path:
        state = {
            "format": BASELINE_FORMAT,
            "classes": list(self.classes),
            "threshold": self.threshold,
            "meta": self.meta,
            "pipeline": self._pipeline,
        }
        return _dump(state, path)

    @classmethod
    def load(cls, path: str | Path) -> BaselineRouter:
        state = _load(path, BASELINE_FORMAT)
        router = cls()
        router.classes = tuple(state["classes"])
        router.threshold = float(state["threshold"])
        router.meta = state["meta"]
        router._pipeline = state["pipeline"]
        return router


def baseline(*, seed: int = 0) -> BaselineRouter:
    """The plain model the benchmark compares the router against."""
    return BaselineRouter(seed=seed)
