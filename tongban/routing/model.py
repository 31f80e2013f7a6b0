"""The request router: a text classifier that names the category (and so the department)
a resident's request (诉求) belongs to, with a confidence.

Design (measured in ``bench/routing.py``):

* Text is NFKC-normalised, lower-cased, whitespace-collapsed and cut to ``MAX_CHARS``
  characters: the topic of a request is stated early (cutting at 1 000 instead of 3 000
  scored the same on held-back data) and the cut bounds the classify time of long letters.
* Two TF-IDF blocks (sublinear tf, smooth idf, each block L2-normalised): character
  1–3-grams, and jieba words and word bigrams (precise mode without the HMM). A feature is
  kept when its (weighted) document frequency is at least ``MIN_DF`` and it occurs in at
  most ``MAX_DF`` of the texts.
* A one-vs-rest NB-SVM gives one score per category: for each category the features are
  scaled by their naive-Bayes log-count ratio and a binary ``LinearSVC`` is fitted (the
  scaling folds into the weights, so it classifies as fast as a plain linear SVM). Each
  score is mapped to a probability by Platt scaling fitted on out-of-fold scores (5 folds
  that keep near-duplicates together), and the probabilities are normalised to sum to one.
  The confidence of a prediction is the largest probability. The out-of-fold
  probabilities of the training rows stay on the fitted router (``oof_probabilities``,
  not saved): ``tongban.routing.train`` chooses the threshold on them.
* ``threshold`` is set by ``tongban.routing.train``: the confidence from which requests are
  routed without a dispatcher.

Why these settings (5-fold cross-validation on the training pool only, message bodies
scored; the test split played no part): character 1–2-grams + words scored macro-F1
0.929, 1–3-grams + words 0.931, 1–3-grams + words and word bigrams 0.932 (1–4-grams: 0.932,
slower and larger); a plain ``LinearSVC`` on the same features 0.931 but ranked its
confidences worse (0.68 instead of 0.71 of the bodies routable at 99 % precision);
``ComplementNB`` 0.910, ``SGDClassifier(modified_huber)`` 0.927, class-balanced
``LinearSVC`` 0.930; averaging NB-SVM with a ``LinearSVC`` reached 0.936 at twice the cost
with no gain in the routable share; a multinomial ``LogisticRegression`` scored 0.918 and
took 20 times as long.

A trained router is plain data (vocabularies, idf weights, coefficients, calibration, and the
part of jieba's dictionary the training texts used), saved with joblib under a format
version. Classifying needs only numpy and jieba: loading a model neither imports
scikit-learn nor reads jieba's full dictionary, so it takes a fraction of a second.

``baseline()`` builds the plain comparison model: character 1–3-gram TF-IDF + ``LinearSVC``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tongban.routing.baseline import BASELINE_FORMAT, BaselineRouter, baseline
from tongban.routing.features import (
    _CONTROL,
    _WHITESPACE,
    _WORDLIKE,
    CHAR_NGRAMS,
    MAX_CHARS,
    MAX_DF,
    MIN_DF,
    SUBLINEAR_TF,
    WORD_NGRAMS,
    _block_matrix,
    _quiet_jieba,
    _reduced_dictionary,
    _select_vocabulary,
    _tf,
    _tokenizer_from,
    _weights,
    char_ngrams,
    full_tokenizer,
    prepare,
    word_ngrams,
    words,
)
from tongban.routing.fitting import NB_ALPHA, SVM_C, _calibrate, _group_folds, _nb_svm
from tongban.routing.persist import (
    _TERM_SEPARATOR,
    ModelError,
    Predicting,
    Prediction,
    _dump,
    _index,
    _load,
    _terms,
)

__all__ = [
    "BASELINE_FORMAT",
    "CALIBRATION_FOLDS",
    "CHAR_NGRAMS",
    "FORMAT",
    "MAX_CHARS",
    "MAX_DF",
    "MIN_DF",
    "NB_ALPHA",
    "READABLE_FORMATS",
    "SUBLINEAR_TF",
    "SVM_C",
    "WORD_NGRAMS",
    "BaselineRouter",
    "ModelError",
    "Prediction",
    "Router",
    "baseline",
    "char_ngrams",
    "full_tokenizer",
    "prepare",
    "word_ngrams",
    "words",
]
# Private helpers re-exported for callers of the old single module (train.py, bench).
_REEXPORTED = (
    _CONTROL,
    _WHITESPACE,
    _WORDLIKE,
    _TERM_SEPARATOR,
    _block_matrix,
    _quiet_jieba,
    _reduced_dictionary,
    _select_vocabulary,
    _tf,
    _tokenizer_from,
    _weights,
    _calibrate,
    _group_folds,
    _nb_svm,
    _dump,
    _index,
    _load,
    _terms,
)

FORMAT = "tongban-routing/2"
#: older formats :meth:`Router.load` still reads (their feature settings are in the file)
READABLE_FORMATS = ("tongban-routing/1", FORMAT)

CALIBRATION_FOLDS = 5


class Router(Predicting):
    """Routes request texts to a category; see the module docstring for the model."""

    kind = "main"

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed
        self.classes: tuple[str, ...] = ()
        #: confidence from which a request is routed automatically; inf = never (not chosen)
        self.threshold: float = math.inf
        #: training facts (sizes, time, library versions) recorded by whoever trained it
        self.meta: dict[str, Any] = {}
        self._char_index: dict[str, int] = {}
        self._char_idf = np.zeros(0, dtype=np.float32)
        self._word_index: dict[str, int] = {}
        self._word_idf = np.zeros(0, dtype=np.float32)
        self._coef = np.zeros((0, 0), dtype=np.float32)  # (features, classes)
        self._intercept = np.zeros(0, dtype=np.float32)
        self._platt = np.zeros((2, 0), dtype=np.float64)  # rows: slope, offset
        self._jieba_freq: dict[str, int] = {}
        self._jieba_total = 0
        self._tokenizer = None
        self._max_chars = MAX_CHARS
        self._char_ngrams = CHAR_NGRAMS
        self._word_ngrams = WORD_NGRAMS
        #: after ``fit``: calibrated out-of-fold probabilities of the training rows (rows ×
        #: classes), what the router says of texts it was not trained on; not saved
        self.oof_probabilities: np.ndarray | None = None

    # -- training ---------------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        sample_weight: Sequence[float] | None = None,
        groups: Sequence[int] | None = None,
        token_cache: dict[str, list[str]] | None = None,
    ) -> Router:
        """Train on ``texts`` and ``labels``.

        ``sample_weight`` weighs rows in the SVM and in the document frequencies (a row of
        weight 2 keeps its own words). ``groups`` (e.g. near-duplicate groups) are kept
        within one fold when calibrating. ``token_cache`` (prepared text → words) lets a
        caller that fits several times segment each text once.
        """
        # scikit-learn is needed for training only; importing it here keeps loading a model
        # (the web process) free of its import time.
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression

        if isinstance(texts, str) or isinstance(labels, str):
            raise TypeError("texts and labels are sequences, not a single string")
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        y = np.asarray(labels, dtype=object)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError("training needs at least two categories")
        if counts.min() < CALIBRATION_FOLDS:
            rare = [str(c) for c, n in zip(classes, counts, strict=True) if n < CALIBRATION_FOLDS]
            raise ValueError(
                f"each category needs at least {CALIBRATION_FOLDS} training texts: "
                f"{', '.join(rare)}"
            )
        weights = (
            np.ones(len(texts))
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        started = time.perf_counter()
        tokenizer = full_tokenizer()
        cache = {} if token_cache is None else token_cache
        prepared = [prepare(t) for t in texts]
        char_docs = [Counter(char_ngrams(p, self._char_ngrams)) for p in prepared]
        word_lists = []
        for p in prepared:
            if p not in cache:
                cache[p] = words(tokenizer, p)
            word_lists.append(cache[p])
        word_docs = [Counter(word_ngrams(w, self._word_ngrams)) for w in word_lists]
        self._char_index, self._char_idf = _select_vocabulary(char_docs, weights)
        self._word_index, self._word_idf = _select_vocabulary(word_docs, weights)
        self._jieba_freq = _reduced_dictionary(tokenizer, {w for ws in word_lists for w in ws})
        self._jieba_total = tokenizer.total
        self._tokenizer = None
        X = sparse.hstack(
            [
                _block_matrix(char_docs, self._char_index, self._char_idf),
                _block_matrix(word_docs, self._word_index, self._word_idf),
            ],
            format="csr",
        )

        self.classes = tuple(str(c) for c in classes)
        y_index = np.searchsorted(classes, y)
        # Platt scaling on out-of-fold scores: near-duplicates stay in one fold so the
        # scores are those of texts the SVM has not seen, as in use.
        fold = _group_folds(y_index, groups, CALIBRATION_FOLDS, self.seed)
        oof = np.zeros((X.shape[0], len(classes)))
        for f in range(CALIBRATION_FOLDS):
            train_rows, test_rows = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
            coef, intercept = _nb_svm(
                X[train_rows], y_index[train_rows], len(classes), weights[train_rows], self.seed
            )
            oof[test_rows] = X[test_rows] @ coef + intercept
        platt = np.zeros((2, len(classes)))
        for k in range(len(classes)):
            target = (y_index == k).astype(int)
            lr = LogisticRegression(C=1e4).fit(oof[:, k : k + 1], target, sample_weight=weights)
            platt[0, k] = lr.coef_[0, 0]
            platt[1, k] = lr.intercept_[0]
        self._platt = platt
        self.oof_probabilities = np.array([_calibrate(row, platt) for row in oof])
        coef, intercept = _nb_svm(X, y_index, len(classes), weights, self.seed)
        self._coef = np.ascontiguousarray(coef, dtype=np.float32)
        self._intercept = intercept.astype(np.float32)
        self.meta = {
            **self.meta,
            "fit_rows": len(texts),
            "fit_seconds": round(time.perf_counter() - started, 2),
        }
        return self

    def _row(self, char_doc: Counter, word_doc: Counter, n_char: int):
        char_cols, char_values = _weights(char_doc, self._char_index, self._char_idf)
        word_cols, word_values = _weights(word_doc, self._word_index, self._word_idf)
        cols = np.array(char_cols + [n_char + c for c in word_cols], dtype=np.int64)
        return cols, np.concatenate([char_values, word_values])

    # -- classifying ------------------------------------------------------------------------

    def _jieba(self):
        if self._tokenizer is None:
            self._tokenizer = _tokenizer_from(self._jieba_freq, self._jieba_total)
        return self._tokenizer

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in ``classes`` order."""
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        if not self.classes:
            raise ModelError("the router is not trained")
        tokenizer = self._jieba()
        n_char = len(self._char_index)
        out = np.empty((len(texts), len(self.classes)))
        for i, text in enumerate(texts):
            p = prepare(text, self._max_chars)
            cols, values = self._row(
                Counter(char_ngrams(p, self._char_ngrams)),
                Counter(word_ngrams(words(tokenizer, p), self._word_ngrams)),
                n_char,
            )
            scores = values @ self._coef[cols] + self._intercept
            out[i] = _calibrate(scores, self._platt)
        return out

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the model (format ``FORMAT``) atomically: a reader never sees half a file."""
        if not self.classes:
            raise ModelError("the router is not trained")
        state = {
            "format": FORMAT,
            "classes": list(self.classes),
            "threshold": self.threshold,
            "meta": self.meta,
            "seed": self.seed,
            "config": {
                "max_chars": self._max_chars,
                "char_ngrams": list(self._char_ngrams),
                "word_ngrams": list(self._word_ngrams),
                "min_df": MIN_DF,
                "max_df": MAX_DF,
                "svm_c": SVM_C,
                "nb_alpha": NB_ALPHA,
            },
            # Vocabularies as one string each, not dicts: unpickling a million small strings
            # one by one is what made loading slow; splitting one string is fast (and, unlike
            # a fixed-width numpy array, does not pad every term to the longest).
            "char_terms": _terms(self._char_index),
            "char_idf": self._char_idf,
            "word_terms": _terms(self._word_index),
            "word_idf": self._word_idf,
            "coef": self._coef,
            "intercept": self._intercept,
            "platt": self._platt,
            "jieba_words": np.array(list(self._jieba_freq), dtype=str),
            "jieba_counts": np.fromiter(self._jieba_freq.values(), dtype=np.int64),
            "jieba_total": self._jieba_total,
        }
        # Uncompressed: about 18 MB instead of 8, but decompressing took 0.08 s of CPU of
        # the 0.2 s a load costs (the file is built by `make`, not committed).
        return _dump(state, path, compress=0)

    @classmethod
    def load(cls, path: str | Path) -> Router:
        """Read a model written by :meth:`save`; raises :class:`ModelError` if it is not one."""
        state = _load(path, READABLE_FORMATS)
        config = state["config"]
        router = cls(seed=state["seed"])
        router._max_chars = int(config["max_chars"])
        router._char_ngrams = tuple(config["char_ngrams"])
        router._word_ngrams = tuple(config.get("word_ngrams", (1, 1)))
        router.classes = tuple(state["classes"])
        router.threshold = float(state["threshold"])
        router.meta = state["meta"]
        router._char_index = _index(state["char_terms"])
        router._char_idf = state["char_idf"]
        router._word_index = _index(state["word_terms"])
        router._word_idf = state["word_idf"]
        router._coef = state["coef"]
        router._intercept = state["intercept"]
        router._platt = state["platt"]
        router._jieba_freq = dict(
            zip(state["jieba_words"].tolist(), state["jieba_counts"].tolist(), strict=True)
        )
        router._jieba_total = state["jieba_total"]
        router._jieba()
        return router
