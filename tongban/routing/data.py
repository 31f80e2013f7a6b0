"""Reading labelled requests (诉求) from tab-separated files.

The labelled data lives outside the project (it may not be redistributed with it):
``../shared/data/requests/`` next to the repository, or the folder named by the
environment variable ``TONGBAN_SHARED_DATA``. Two files are used:

``messages.tsv``  columns ``text``, ``label`` — message bodies
``titles.tsv``    columns ``split`` (``train``/``dev``), ``title``, ``label`` — message subjects

Any TSV with a ``text`` (or ``title``) column and a ``label`` column can be read with
:func:`read_tsv`. Files are UTF-8, one header line, one row per line, no quoting (tabs and
newlines inside texts were replaced by spaces upstream). A malformed row raises
:class:`DataError` naming the file and the line.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: The seven first-level categories of the labelled data, in a fixed display order.
LABELS: tuple[str, ...] = (
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
)

ENV_VAR = "TONGBAN_SHARED_DATA"
MESSAGES_FILE = "messages.tsv"
TITLES_FILE = "titles.tsv"


class DataError(ValueError):
    """A data file is missing, empty or malformed; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled request text; ``source`` is ``"message"`` or ``"title"``.

    ``where`` is ``file:line`` of the row it came from (empty for texts given in code).
    """

    text: str
    label: str
    source: str = "message"
    split: str = ""
    where: str = ""


def data_dir() -> Path:
    """The folder holding ``messages.tsv`` and ``titles.tsv``.

    ``$TONGBAN_SHARED_DATA`` if set, else ``shared/data/requests`` beside the repository.
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "requests"


def _data_file(name: str) -> Path:
    path = data_dir() / name
    if not path.is_file():
        raise DataError(
            f"{path}: file not found (set {ENV_VAR} to the folder holding {MESSAGES_FILE} "
            f"and {TITLES_FILE})"
        )
    return path


def read_rows(
    path: str | os.PathLike[str], required: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """Read a TSV into (line number, dict keyed by the header) pairs, checking every row.

    Raises :class:`DataError` ("file:line: what is wrong") for a missing or empty file,
    missing columns, a row with the wrong number of fields, or an empty required field.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a TSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 text") from None
    lines = content.splitlines()
    if not lines or not lines[0].strip():
        raise DataError(f"{path}: empty file (expected a header line with {', '.join(required)})")
    header = [h.strip() for h in lines[0].split("\t")]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            f"{path}:1: missing column(s) {', '.join(missing)} "
            f"(header has: {', '.join(header) or 'nothing'}; columns are tab-separated)"
        )
    if len(set(header)) != len(header):
        raise DataError(f"{path}:1: duplicate column names in header")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise DataError(
                f"{path}:{number}: expected {len(header)} tab-separated fields, found {len(fields)}"
            )
        row = dict(zip(header, (f.strip() for f in fields), strict=True))
        for column in required:
            if not row[column]:
                raise DataError(f"{path}:{number}: empty {column}")
        rows.append((number, row))
    if not rows:
        raise DataError(f"{path}: no data rows after the header")
    return rows


def read_tsv(path: str | os.PathLike[str], source: str = "") -> list[Example]:
    """Read labelled texts from a TSV with ``label`` and ``text`` (or ``title``) columns.

    A ``split`` column, when present, is kept on each example.
    """
    path = Path(path)
    first = _header(path)
    if first and first != [""] and "text" not in first and "title" not in first:
        raise DataError(
            f"{path}:1: missing column text (or title) "
            f"(header has: {', '.join(first)}; columns are tab-separated)"
        )
    text_column = "text" if "text" in first or "title" not in first else "title"
    rows = read_rows(path, ("label", text_column))
    source = source or ("title" if text_column == "title" else "message")
    return [
        Example(r[text_column], r["label"], source, r.get("split", ""), f"{path}:{n}")
        for n, r in rows
    ]


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as f:
            return [h.strip() for h in f.readline().rstrip("\r\n").split("\t")]
    except OSError:
        return []  # read_rows reports the problem with the file


def check_labels(examples: list[Example], known: tuple[str, ...] | list[str]) -> None:
    """Raise :class:`DataError` at the first example whose label is not in ``known``."""
    allowed = set(known)
    for e in examples:
        if e.label not in allowed:
            raise DataError(
                f"{e.where or 'row'}: unknown label {e.label!r} (known: {', '.join(known)})"
            )


def load_messages() -> list[Example]:
    """All message bodies of ``messages.tsv`` (split them with ``train.split_messages``)."""
    return read_tsv(_data_file(MESSAGES_FILE), source="message")


def load_titles(split: str | None = None) -> list[Example]:
    """Titles of ``titles.tsv``; ``split`` = ``"train"`` or ``"dev"`` to keep only that part."""
    path = _data_file(TITLES_FILE)
    rows = read_rows(path, ("split", "title", "label"))
    examples = [
        Example(r["title"], r["label"], "title", r["split"], f"{path}:{n}") for n, r in rows
    ]
    if split is not None:
        examples = [e for e in examples if e.split == split]
    return examples


# --- near-duplicates ----------------------------------------------------------------------
#
# Message boards repeat themselves: a request posted twice with small edits, a message's
# subject (title) contained in its body. Measuring on a text whose near-twin was trained on
# flatters the model, so splits keep near-duplicates together and training drops rows that
# nearly duplicate a test text. Two texts are near-duplicates when, over the character
# 4-grams of their normalised forms (NFKC, lower case, letters and digits only), either
# the Jaccard similarity is at least NEAR_JACCARD, or at least NEAR_CONTAINMENT of the
# shorter text's 4-grams occur in the longer one and the shorter has at least
# NEAR_MIN_SHINGLES of them (a title inside its message), or their normalised forms are
# equal (short texts).

NEAR_JACCARD = 0.5
NEAR_CONTAINMENT = 0.8
NEAR_MIN_SHINGLES = 8
_SHINGLE = 4
_NOT_WORD = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """The form two texts are compared in: NFKC, lower case, letters and digits only."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def near_duplicate_pairs(
    texts: Sequence[str], others: Sequence[str] | None = None
) -> list[tuple[int, int]]:
    """Index pairs (i, j) with ``texts[i]`` a near-duplicate of ``others[j]``.

    Without ``others``: pairs within ``texts``, each once, i < j.
    """
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer

    within = others is None
    left = [normalize(t) for t in texts]
    right = left if within else [normalize(t) for t in others]
    # Hashing 4-grams into 2**22 buckets: collisions among the ~1.5 million distinct
    # 4-grams of the data are rare and can only make a pair look slightly more similar.
    hasher = HashingVectorizer(
        analyzer="char",
        ngram_range=(_SHINGLE, _SHINGLE),
        lowercase=False,
        binary=True,
        norm=None,
        alternate_sign=False,
        n_features=2**22,
        dtype=np.float32,
    )
    a = hasher.transform(left)
    b = a if within else hasher.transform(right)
    size_a = np.asarray(a.sum(axis=1)).ravel()
    size_b = size_a if within else np.asarray(b.sum(axis=1)).ravel()
    shared = (a @ b.T).tocoo()
    i, j, common = shared.row, shared.col, shared.data
    union = size_a[i] + size_b[j] - common
    smaller = np.minimum(size_a[i], size_b[j])
    near = (common >= NEAR_JACCARD * union) | (
        (common >= NEAR_CONTAINMENT * smaller) & (smaller >= NEAR_MIN_SHINGLES)
    )
    if within:
        near &= i < j
    pairs = set(zip(i[near].tolist(), j[near].tolist(), strict=True))
    by_form: dict[str, list[int]] = defaultdict(list)
    for k, form in enumerate(right):
        by_form[form].append(k)
    for k, form in enumerate(left):
        for q in by_form.get(form, ()):
            if not within or k < q:
                pairs.add((k, q))
    return sorted(pairs)


def duplicate_groups(texts: Sequence[str]) -> list[int]:
    """A group number per text; near-duplicates (transitively) share a group."""
    return groups_from_pairs(len(texts), near_duplicate_pairs(texts))


def groups_from_pairs(n: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Connected components of ``n`` items joined by ``pairs``; each is numbered by its
    smallest member."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [root(x) for x in range(n)]
