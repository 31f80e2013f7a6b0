"""Saving and loading router models: the model error, atomic joblib files under a format
version, and vocabularies stored as one string."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np

_TERM_SEPARATOR = "\x00"  # never in a prepared text (control characters become spaces)

Prediction = tuple[str, float]


class ModelError(ValueError):
    """A model file is missing, unreadable, or of another format."""


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
