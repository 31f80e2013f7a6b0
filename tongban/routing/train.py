"""Training the router, choosing its automatic-routing threshold, and measuring it.

Evaluation split policy (what is measured on, and what training may never see):

* **Message bodies** (``messages.tsv``): a fixed test split of 20 %, stratified by category
  and drawn with ``seed`` (default 0) over groups of near-duplicates, so a group is wholly
  in the test split or wholly out of it — :func:`split_messages`. Training never sees it.
* **Titles** (``titles.tsv``): the split given in the file; ``train`` rows are training
  data, ``dev`` rows are held out.
* **No leakage across the splits**: a training row (message or title) that is a
  near-duplicate of any test message or dev title is dropped from training. This matters:
  a title is often the subject line of a message body and then sits inside it
  (see ``data.near_duplicate_pairs`` for the definition).
* **Threshold** (``method="crossfit"``, the default): the router is fitted on the whole
  training pool; while fitting it scores every training row with a model fitted on the
  other folds (5 folds, near-duplicates kept together: ``Router.oof_probabilities``; any
  other router is cross-fitted here the same way). The threshold is the lowest confidence
  at which those out-of-fold predictions on the **message bodies** at or above it are right
  at least ``SELECTION_PRECISION`` of the time. The test splits play no part.

  Why (measured on the training pool alone; the test split played no part): the earlier
  protocol (``method="holdout"``: hold back 20 % of the pool, about 2 000 rows of which 780
  bodies, choose on all of them — titles included — then refit on everything) is still
  available. Simulated with 5 folds (choose on one fold, measure on the bodies of the
  others) it routed 58 % of the bodies at 99.4 % precision: few rows to choose on, and
  titles, which are short and less certain, pull the threshold up. Choosing on many
  out-of-fold bodies routes more, but two things make the precision on new texts fall
  below the precision on the rows it was chosen on: the lowest threshold that reaches a
  precision is the luckiest of many cuts, and the final model, trained on every row, is
  more confident than the fold models whose predictions chose. Nested 5-fold simulation of
  the whole of this procedure (train on 4/5 of the pool, choose on its own out-of-fold
  bodies, measure on the bodies of the last fifth), by ``SELECTION_PRECISION``: 0.990 →
  73.3 % routed at 98.8 %; 0.991 → 72.2 % at 98.9 %; 0.992 → 70.7 % at 98.9 %; 0.993 →
  67.9 % at 99.1 % (every fold ≥ 98.9 %); 0.995 → 62.6 % at 99.4 %. Hence 0.993. Titles
  are left out of the choice (the requests routed in use have bodies); with fewer than
  ``MIN_SELECTION_ROWS`` bodies (e.g. a titles-only training set) all rows choose.

  The precision measured on the 1 000-message test split still moves by about ±0.5 % from
  split to split (1 % of the routed requests is six or seven texts).

Dispatcher corrections (``extra``: (text, label) pairs) always train, with weight
``CORRECTION_WEIGHT``; a training row whose normalised text equals a correction's is
replaced by the correction. They are never held back.
"""

from __future__ import annotations

import math
import platform
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tongban.routing.data import (
    LABELS,
    DataError,
    Example,
    data_dir,
    duplicate_groups,
    groups_from_pairs,
    load_messages,
    load_titles,
    near_duplicate_pairs,
    normalize,
)
from tongban.routing.model import Router

TEST_FRACTION = 0.2
HOLD_FRACTION = 0.2
TARGET_PRECISION = 0.99
#: the precision the threshold must reach on the rows it is chosen on (see the docstring)
SELECTION_PRECISION = 0.993
CROSSFIT_FOLDS = 5
MIN_SELECTION_ROWS = 500
CORRECTION_WEIGHT = 2.0


# --- splits -------------------------------------------------------------------------------


def group_split(
    examples: Sequence[Example], groups: Sequence[int], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Indices (kept, held) with about ``fraction`` of each category held, whole groups only.

    A group counts under its most common label; groups are drawn in a seeded random order.
    """
    members: dict[int, list[int]] = defaultdict(list)
    for k, g in enumerate(groups):
        members[g].append(k)
    by_label: dict[str, list[int]] = defaultdict(list)
    for g, ks in members.items():
        counts = Counter(examples[k].label for k in ks)
        label = min(counts, key=lambda lab: (-counts[lab], lab))
        by_label[label].append(g)
    rng = random.Random(seed)
    held: set[int] = set()
    for label in sorted(by_label):
        label_groups = sorted(by_label[label])
        rng.shuffle(label_groups)
        target = round(fraction * sum(len(members[g]) for g in label_groups))
        taken = 0
        for g in label_groups:
            if taken >= target:
                break
            held.update(members[g])
            taken += len(members[g])
    kept = [k for k in range(len(examples)) if k not in held]
    return kept, sorted(held)


def split_messages(seed: int = 0) -> tuple[list[Example], list[Example]]:
    """(train, test) message bodies: the fixed, seeded, stratified, de-duplicated 20 % split."""
    messages = load_messages()
    kept, held = group_split(
        messages, duplicate_groups([m.text for m in messages]), TEST_FRACTION, seed
    )
    return [messages[k] for k in kept], [messages[k] for k in held]


@dataclass
class TrainingData:
    """Everything one training run uses, split as the module docstring says."""

    fit: list[Example]  # training rows the threshold model learns from
    hold: list[Example]  # held back to choose the threshold (method="holdout" only)
    extra: list[Example]  # dispatcher corrections: always trained on
    message_test: list[Example]
    title_dev: list[Example]
    groups: dict[str, int] = field(default_factory=dict)  # normalised text → group
    dropped_near_test: int = 0
    replaced_by_corrections: int = 0

    def rows(self, part: str) -> list[Example]:
        return {"fit": self.fit + self.extra, "all": self.fit + self.hold + self.extra}[part]

    def sizes(self, method: str = "crossfit") -> dict[str, int]:
        """Row counts; ``held_back`` is what the final model never trained on (none when the
        threshold is chosen by cross-fitting)."""
        train = self.fit + self.hold
        return {
            "train_messages": sum(e.source == "message" for e in train),
            "train_titles": sum(e.source == "title" for e in train),
            "corrections": len(self.extra),
            "held_back": len(self.hold) if method == "holdout" else 0,
            "dropped_near_test": self.dropped_near_test,
            "replaced_by_corrections": self.replaced_by_corrections,
            "test_messages": len(self.message_test),
            "dev_titles": len(self.title_dev),
        }


def _corrections(extra: Iterable[tuple[str, str]]) -> list[Example]:
    out = []
    for n, row in enumerate(extra, start=1):
        try:
            text, label = row
        except (TypeError, ValueError):
            raise ValueError(
                f"correction {n}: expected a (text, label) pair, got {row!r}"
            ) from None
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"correction {n}: empty text")
        if label not in LABELS:
            raise ValueError(
                f"correction {n}: unknown label {label!r} (known: {', '.join(LABELS)})"
            )
        out.append(Example(text, label, "correction", "train", f"correction {n}"))
    return out


def prepare(seed: int = 0, extra: Iterable[tuple[str, str]] = ()) -> TrainingData:
    """Load the data and split it (see the module docstring).

    Near-duplicate pairs are found once over all texts; the message split uses only the
    pairs between messages, so it is the split :func:`split_messages` makes.
    """
    corrections = _corrections(extra)
    messages = load_messages()
    titles = load_titles()
    everything = messages + titles + corrections
    pairs = near_duplicate_pairs([e.text for e in everything])
    n_messages = len(messages)

    message_groups = groups_from_pairs(n_messages, [(i, j) for i, j in pairs if j < n_messages])
    kept, held = group_split(messages, message_groups, TEST_FRACTION, seed)
    titles_at = range(n_messages, n_messages + len(titles))
    heldout = set(held) | {k for k in titles_at if everything[k].split == "dev"}
    if len(heldout) == len(held):
        raise DataError(f"{data_dir() / 'titles.tsv'}: no rows with split 'dev'")
    candidates = kept + [k for k in titles_at if everything[k].split == "train"]

    near_test = {i for i, j in pairs if j in heldout} | {j for i, j in pairs if i in heldout}
    corrected = {normalize(c.text) for c in corrections}
    pool: list[int] = []
    dropped = replaced = 0
    for k in candidates:
        if k in near_test:
            dropped += 1
        elif normalize(everything[k].text) in corrected:
            replaced += 1
        else:
            pool.append(k)
    training = pool + list(range(len(everything) - len(corrections), len(everything)))
    position = {k: n for n, k in enumerate(training)}
    local_pairs = [(position[i], position[j]) for i, j in pairs if i in position and j in position]
    group_of = groups_from_pairs(len(training), local_pairs)
    groups = {normalize(everything[k].text): g for k, g in zip(training, group_of, strict=True)}
    pool_rows = [everything[k] for k in pool]
    fit_rows, hold_rows = group_split(pool_rows, group_of[: len(pool)], HOLD_FRACTION, seed)
    return TrainingData(
        fit=[pool_rows[k] for k in fit_rows],
        hold=[pool_rows[k] for k in hold_rows],
        extra=corrections,
        message_test=[messages[k] for k in held],
        title_dev=[everything[k] for k in titles_at if everything[k].split == "dev"],
        groups=groups,
        dropped_near_test=dropped,
        replaced_by_corrections=replaced,
    )


# --- threshold ----------------------------------------------------------------------------


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


# --- fitting ------------------------------------------------------------------------------

Factory = Callable[..., Any]


def fit_with_threshold(
    factory: Factory,
    data: TrainingData,
    seed: int = 0,
    token_cache: dict[str, list[str]] | None = None,
    *,
    refit: bool = True,
    method: str = "crossfit",
) -> tuple[Any, dict[str, Any]]:
    """Fit a router and choose its threshold (see the module docstring).

    ``factory(seed=…)`` makes an unfitted router (``Router`` or ``model.baseline``).
    ``method="crossfit"``: fit on everything, choose on out-of-fold predictions of the
    message bodies (``refit`` does not apply). ``method="holdout"``: fit on the fit part,
    choose on the held-back part, refit on everything; ``refit=False`` keeps the first
    router (trained without the held-back part).
    """
    if method not in ("crossfit", "holdout"):
        raise ValueError(f"unknown threshold method {method!r} (crossfit or holdout)")
    cache = {} if token_cache is None else token_cache
    started = time.perf_counter()

    def groups_of(rows: list[Example]) -> list[int]:
        return [data.groups.get(normalize(e.text), -1 - k) for k, e in enumerate(rows)]

    def fit(rows: list[Example]):
        return factory(seed=seed).fit(
            [e.text for e in rows],
            [e.label for e in rows],
            sample_weight=[CORRECTION_WEIGHT if e.source == "correction" else 1.0 for e in rows],
            groups=groups_of(rows),
            token_cache=cache,
        )

    if method == "crossfit":
        rows = data.rows("all")
        router = fit(rows)
        probs = getattr(router, "oof_probabilities", None)
        if probs is None:
            probs = _cross_fitted(fit, rows, router.classes, groups_of(rows), seed)
        labels = np.searchsorted(np.asarray(router.classes), [e.label for e in rows])
        sources = [e.source for e in rows]
        bodies = sum(s == "message" for s in sources)
        threshold, selection = choose_threshold(
            probs.max(axis=1),
            probs.argmax(axis=1) == labels,
            sources,
            SELECTION_PRECISION,
            choose_on=["message"] if bodies >= MIN_SELECTION_ROWS else None,
        )
        router.threshold = threshold
        selection["selection_precision"] = SELECTION_PRECISION
        selection["target_precision"] = TARGET_PRECISION
        selection["method"] = "crossfit"
        selection["threshold"] = _finite(threshold)
        selection["refit_on_held_back"] = False
        return router, {"training_seconds": round(time.perf_counter() - started, 2), **selection}

    first = fit(data.rows("fit"))
    predictions = first.predict([e.text for e in data.hold])
    threshold, selection = choose_threshold(
        [c for _, c in predictions],
        [p == e.label for (p, _), e in zip(predictions, data.hold, strict=True)],
        [e.source for e in data.hold],
    )
    router = fit(data.rows("all")) if refit else first
    router.threshold = threshold
    selection["method"] = "holdout"
    selection["threshold"] = _finite(threshold)
    selection["refit_on_held_back"] = refit
    return router, {"training_seconds": round(time.perf_counter() - started, 2), **selection}


def _cross_fitted(
    fit: Callable[[list[Example]], Any],
    rows: list[Example],
    classes: Sequence[str],
    groups: list[int],
    seed: int,
) -> np.ndarray:
    """Out-of-fold probabilities (rows × ``classes``) of routers fitted by ``fit`` on the
    other folds, for routers that do not compute them while fitting (the baseline)."""
    from tongban.routing.model import _group_folds

    y = np.searchsorted(np.asarray(classes), [e.label for e in rows])
    fold = _group_folds(y, groups, CROSSFIT_FOLDS, seed)
    probs = np.zeros((len(rows), len(classes)))
    for f in range(CROSSFIT_FOLDS):
        inside = np.flatnonzero(fold != f)
        model = fit([rows[k] for k in inside])
        outside = np.flatnonzero(fold == f)
        part = model.probabilities([rows[k].text for k in outside])
        columns = np.searchsorted(np.asarray(classes), np.asarray(model.classes))
        probs[np.ix_(outside, columns)] = part
    return probs


def train(
    out_path: str | Path,
    extra: Iterable[tuple[str, str]] = (),
    seed: int = 0,
    *,
    refit: bool = True,
    data: TrainingData | None = None,
    method: str = "crossfit",
) -> dict[str, Any]:
    """Train the router on both files' training portions (plus ``extra`` corrections),
    choose its threshold (``method``, see the module docstring), save it to ``out_path``
    and return a report that includes its scores on the held-out message bodies and dev
    titles.

    ``data``: the result of ``prepare(seed, extra)`` if the caller already has it.
    """
    import jieba
    import sklearn

    started = time.perf_counter()
    if data is None:
        data = prepare(seed, extra)
    elif extra:
        raise ValueError("pass corrections to prepare(), not with prepared data")
    router, selection = fit_with_threshold(Router, data, seed, refit=refit, method=method)
    training_seconds = round(time.perf_counter() - started, 2)
    router.meta.update(
        {
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_seconds": training_seconds,
            "seed": seed,
            "sizes": data.sizes(method),
            "threshold_selection": selection,
            "versions": {
                "sklearn": sklearn.__version__,
                "numpy": np.__version__,
                "jieba": jieba.__version__,
                "python": platform.python_version(),
            },
        }
    )
    path = router.save(out_path)
    return {
        "model": str(path),
        "model_bytes": path.stat().st_size,
        "classes": list(router.classes),
        "threshold": _finite(router.threshold),
        "training_seconds": training_seconds,
        "sizes": data.sizes(method),
        "threshold_selection": selection,
        "message_test": evaluate(
            router, [e.text for e in data.message_test], [e.label for e in data.message_test]
        ),
        "title_dev": evaluate(
            router, [e.text for e in data.title_dev], [e.label for e in data.title_dev]
        ),
    }


# --- measuring ----------------------------------------------------------------------------


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
