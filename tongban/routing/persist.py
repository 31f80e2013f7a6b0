"""Saving and loading router models: the model error, atomic joblib files under a format
version, and vocabularies stored as one string."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np

_TERM_SEPARATOR = "\x00"  # never in a prepared text (control characters become spaces)

Prediction = tuple[str, float]


class ModelError(ValueError):
    """A model file is missing, unreadable, or of another format."""


class Predicting:
    """What every router offers on top of its `probabilities` (rows over `classes`) and its
    `threshold`: the top category with its confidence, and whether that is sure enough to
    route without a dispatcher."""

    classes: tuple[str, ...] | list[str]
    threshold: float

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """(category, confidence) for each text; confidence is the top probability."""
        probs = self.probabilities(texts)
        best = probs.argmax(axis=1)
        return [(self.classes[k], float(probs[i, k])) for i, k in enumerate(best)]

    def is_automatic(self, confidence: float) -> bool:
        """Whether a prediction this confident is routed without a dispatcher."""
        return confidence >= self.threshold


def _terms(index: dict[str, int]) -> str:
    terms = [""] * len(index)
    for term, col in index.items():
        terms[col] = term
    return _TERM_SEPARATOR.join(terms)


def _index(terms: str | np.ndarray) -> dict[str, int]:
    if isinstance(terms, np.ndarray):  # format 1
        listed = terms.tolist()
    else:
        listed = terms.split(_TERM_SEPARATOR) if terms else []
    return {term: col for col, term in enumerate(listed)}


def _dump(state: dict, path: str | Path, compress: int = 3) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    joblib.dump(state, partial, compress=compress)
    partial.replace(path)
    return path


def _load(path: str | Path, expected_format: str | tuple[str, ...]) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found (train one: tongban routing train)")
    try:
        state = joblib.load(path)
    except Exception as exc:  # a truncated or foreign file fails in many ways
        raise ModelError(f"{path}: not a routing model ({type(exc).__name__}: {exc})") from None
    found = state.get("format") if isinstance(state, dict) else None
    expected = (expected_format,) if isinstance(expected_format, str) else expected_format
    if found not in expected:
        raise ModelError(f"{path}: model format {found!r}, expected {expected[-1]!r}; retrain")
    return state
