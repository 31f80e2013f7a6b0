"""The training data of the router, split as ``tongban.routing.train`` describes: the fixed
message test split, the title dev split, near-duplicates kept out of training, dispatcher
corrections."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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

TEST_FRACTION = 0.2
HOLD_FRACTION = 0.2


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
