"""Text features of the request router: text preparation, n-grams, jieba words and the
TF-IDF blocks (see ``tongban.routing.model`` for the design)."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

MAX_CHARS = 1000
CHAR_NGRAMS = (1, 3)
WORD_NGRAMS = (1, 2)
MIN_DF = 2.0
MAX_DF = 0.9
SUBLINEAR_TF = True

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_WORDLIKE = re.compile(r"\w")


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
