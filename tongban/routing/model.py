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

import logging
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np

FORMAT = "tongban-routing/2"
#: older formats :meth:`Router.load` still reads (their feature settings are in the file)
READABLE_FORMATS = ("tongban-routing/1", FORMAT)
BASELINE_FORMAT = "tongban-routing-baseline/1"

MAX_CHARS = 1000
CHAR_NGRAMS = (1, 3)
WORD_NGRAMS = (1, 2)
MIN_DF = 2.0
MAX_DF = 0.9
SVM_C = 1.0
NB_ALPHA = 1.0
SUBLINEAR_TF = True
CALIBRATION_FOLDS = 5
_TERM_SEPARATOR = "\x00"  # never in a prepared text (control characters become spaces)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_WORDLIKE = re.compile(r"\w")

Prediction = tuple[str, float]


class ModelError(ValueError):
    """A model file is missing, unreadable, or of another format."""


def prepare(text: str, max_chars: int = MAX_CHARS) -> str:
    """The form of a text the features are computed from."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return _WHITESPACE.sub(" ", text).strip()[:max_chars]


def char_ngrams(text: str, ngrams: tuple[int, int] = CHAR_NGRAMS) -> list[str]:
    """Character n-grams (``CHAR_NGRAMS``) of a prepared text, spaces included."""
    grams: list[str] = []
    low, high = ngrams
    for n in range(low, high + 1):
        grams.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


def word_ngrams(tokens: Sequence[str], ngrams: tuple[int, int] = WORD_NGRAMS) -> list[str]:
    """Word n-grams (``WORD_NGRAMS``) of a text's jieba words, joined by a space."""
    grams: list[str] = []
    low, high = ngrams
    for n in range(low, high + 1):
        if n == 1:
            grams.extend(tokens)
        else:
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


# --- jieba --------------------------------------------------------------------------------


def _quiet_jieba():
    import jieba

    # jieba logs "Building prefix dict…" on stderr at DEBUG level by default.
    jieba.setLogLevel(logging.WARNING)
    return jieba


_full_tokenizer = None


def full_tokenizer():
    """A jieba tokenizer with the dictionary shipped inside the jieba package.

    Made once per process, on first use (about a second). jieba never downloads anything;
    it may write its parsed-dictionary cache into the temporary folder.
    """
    global _full_tokenizer
    if _full_tokenizer is None:
        jieba = _quiet_jieba()
        tokenizer = jieba.Tokenizer()  # dictionary=None: jieba/dict.txt from the package
        tokenizer.initialize()
        _full_tokenizer = tokenizer
    return _full_tokenizer


def _tokenizer_from(freq: dict[str, int], total: int):
    """A jieba tokenizer over a saved (reduced) prefix dictionary, without reading dict.txt."""
    jieba = _quiet_jieba()
    tokenizer = jieba.Tokenizer()
    # Tokenizer keeps its prefix dictionary in FREQ/total (jieba 0.42); setting them and
    # `initialized` is how jieba itself restores its cache, minus the 500 000-entry file.
    tokenizer.FREQ = freq
    tokenizer.total = total
    tokenizer.initialized = True
    return tokenizer


def _reduced_dictionary(full, used_words: Iterable[str]) -> dict[str, int]:
    """The prefix dictionary restricted to the words segmentation produced, plus every
    single character of the full dictionary.

    Segmenting with it picks the same words as the full dictionary on the training texts
    (the best path only used these words, and removing other words removes only
    alternatives); on new texts, words the training texts never produced could not be
    features anyway.
    """
    freq: dict[str, int] = {}
    for word in used_words:
        count = full.FREQ.get(word)
        if count:
            freq[word] = count
    for word, count in full.FREQ.items():
        if count and len(word) == 1:
            freq[word] = count
    for word in list(freq):
        for end in range(1, len(word)):
            freq.setdefault(word[:end], 0)
    return freq


def words(tokenizer, text: str) -> list[str]:
    """jieba words of a prepared text (precise mode, no HMM), without spaces and punctuation."""
    return [w for w in tokenizer.cut(text, HMM=False) if _WORDLIKE.search(w)]


# --- TF-IDF blocks ------------------------------------------------------------------------


def _select_vocabulary(
    docs: Sequence[Counter], weights: np.ndarray
) -> tuple[dict[str, int], np.ndarray]:
    df: Counter = Counter()
    for weight in np.unique(weights):  # few distinct weights: count each group in C
        counted: Counter = Counter()
        for doc, w in zip(docs, weights, strict=True):
            if w == weight:
                counted.update(doc.keys())
        for term, n in counted.items():
            df[term] += n * float(weight)
    total = float(weights.sum())
    kept = sorted(t for t, d in df.items() if MIN_DF <= d <= MAX_DF * total)
    index = {t: i for i, t in enumerate(kept)}
    idf = np.array([math.log((1 + total) / (1 + df[t])) + 1 for t in kept], dtype=np.float32)
    return index, idf


def _tf(counts: np.ndarray) -> np.ndarray:
    return 1 + np.log(counts) if SUBLINEAR_TF else counts


def _weights(doc: Counter, index: dict[str, int], idf: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Sublinear tf × idf of one document's terms in the vocabulary, L2-normalised."""
    cols: list[int] = []
    counts: list[int] = []
    for term, count in doc.items():
        col = index.get(term)
        if col is not None:
            cols.append(col)
            counts.append(count)
    if not cols:
        return cols, np.zeros(0, dtype=np.float32)
    values = _tf(np.array(counts, dtype=np.float32)) * idf[cols]
    values /= np.sqrt(values @ values)
    return cols, values


def _block_matrix(docs: Sequence[Counter], index: dict[str, int], idf: np.ndarray):
    """The TF-IDF matrix of many documents, computed as in :func:`_weights`."""
    from scipy import sparse

    cols: list[int] = []
    counts: list[int] = []
    indptr = [0]
    for doc in docs:
        for term, count in doc.items():
            col = index.get(term)
            if col is not None:
                cols.append(col)
                counts.append(count)
        indptr.append(len(cols))
    values = _tf(np.array(counts, dtype=np.float32)) * idf[np.array(cols, dtype=np.int64)]
    starts = np.array(indptr[:-1])
    nonempty = starts < np.array(indptr[1:])
    squares = np.zeros(len(docs), dtype=np.float32)
    squares[nonempty] = np.add.reduceat(values * values, starts[nonempty])
    norms = np.sqrt(squares)
    norms[norms == 0] = 1
    values /= np.repeat(norms, np.diff(indptr))
    return sparse.csr_matrix(
        (values, np.array(cols, dtype=np.int64), np.array(indptr)),
        shape=(len(docs), len(index)),
    )


class Router:
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

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """(category, confidence) for each text; confidence is the top probability."""
        probs = self.probabilities(texts)
        best = probs.argmax(axis=1)
        return [(self.classes[k], float(probs[i, k])) for i, k in enumerate(best)]

    def is_automatic(self, confidence: float) -> bool:
        """Whether a prediction this confident is routed without a dispatcher."""
        return confidence >= self.threshold

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


# --- the baseline -------------------------------------------------------------------------


class BaselineRouter:
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

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probs = self.probabilities(texts)
        best = probs.argmax(axis=1)
        return [(self.classes[k], float(probs[i, k])) for i, k in enumerate(best)]

    def is_automatic(self, confidence: float) -> bool:
        return confidence >= self.threshold

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
