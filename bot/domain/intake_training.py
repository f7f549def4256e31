"""Fit an ``IntakeModel``: logistic regression over character n-grams, in numpy alone.

Why numpy and not scikit-learn: a deployment adapts the model to its own corrections
with ``gridbot train-intake``, and that should need nothing beyond what the bot already
installs. The problem is small (thousands of messages, tens of thousands of n-grams), so
full-batch Adam on the summed cross-entropy of the three heads converges in a few hundred
steps (seconds) and reaches the same held-out figures as scikit-learn's solvers would
on the same features.

Examples may be partly labelled: a withdrawn ticket ([不是报事]) says only "not a
request"; a ``/category`` correction says "a request, of this category" and nothing of
its urgency. Each head learns from the examples that carry its label.

Adapting (``base=``): training starts from the base model's weights and the L2 penalty
pulls towards them instead of towards zero, so a handful of local corrections move the
answers they are about without forgetting what the base model learned from thousands.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.domain.intake import IntakeParser
from bot.domain.intake_eval import EvalRecord
from bot.domain.intake_model import SIGNAL_MARK, URGENCY_LEVELS, IntakeModel, features
from bot.domain.intake_vocabulary import CATEGORY_CODES, Vocabulary

Array = npt.NDArray[np.float64]
# Near-duplicates for grouped cross-validation (``near_duplicate_groups``).
_SHINGLE = 6
_RARE = 8  # a shingle in more messages than this is a stock phrase ("尊敬的领导"), not a twin
_TWIN_SHARE = 0.5
_NOISE = re.compile(r"[\W\d_]+")


@dataclass(frozen=True, slots=True)
class TrainingExample:
    """One labelled message, its text already normalised; ``None`` labels are unknown."""

    text: str
    is_request: bool | None
    category: str | None = None
    urgency: str | None = None
    weight: float = 1.0
    signals: frozenset[str] = frozenset()  # what the rules saw (``IntakeParser.signals``)


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    """How `gridbot train-intake` fits the model; the defaults were chosen by cross-validation."""

    min_count: int = 2  # an n-gram seen in fewer training messages is not kept
    steps: int = 600
    learning_rate: float = 0.05
    # Per example, on every weight (towards the base model's, when adapting). Chosen by
    # grouped cross-validation: 1e-4 underfits (F1 0.946, 9.6 % false tickets), 1e-5 with 600
    # steps reads best (F1 0.962, 7.0 %, category 0.866; bench/intake_quality.py).
    l2: float = 1e-5
    emergency_weight: float = 2.0  # a missed emergency costs more than a false alarm


# Adapting a model to a deployment's few corrections: only the n-gram rows move (see
# ``train``), a few steps from the base weights. The corrected messages and close
# paraphrases change their answer; on the project's labelled set the figures move by
# under 0.01 (measured with 5 corrections: F1 unchanged, category accuracy -0.007).
ADAPT_SETTINGS = TrainingSettings(min_count=1, steps=150, learning_rate=0.05, l2=0.001)


def examples_from_records(
    records: Sequence[EvalRecord], vocabulary: Vocabulary | None = None, weight: float = 1.0
) -> list[TrainingExample]:
    """Labelled messages as training examples, read as the parser reads them."""
    rules = IntakeParser(vocabulary)
    examples = []
    for record in records:
        text, signals = rules.signals(record.text)
        examples.append(
            TrainingExample(
                text, record.is_request, record.category, record.urgency, weight, signals
            )
        )
    return examples


def _sparse_rows(
    texts: Sequence[tuple[set[str], frozenset[str]]], index: dict[str, int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Array]:
    """CSR-like (row starts, columns, values) of each message's known n-grams and signals.

    As in ``IntakeModel.raw_scores``: n-grams share a weight of 1/sqrt(count), signals 1.
    """
    starts, columns, values = [], [], []
    position = 0
    for grams, signals in texts:
        known = [index[gram] for gram in grams if gram in index]
        flags = [index[signal] for signal in signals if signal in index]
        starts.append(position)
        columns.extend(known + flags)
        values.extend([1.0 / math.sqrt(len(known))] * len(known) if known else [])
        values.extend([1.0] * len(flags))
        position += len(known) + len(flags)
    return (
        np.array(starts, dtype=np.int64),
        np.array(columns, dtype=np.int64),
        np.array(values, dtype=np.float64),
    )


def train(
    examples: Sequence[TrainingExample],
    settings: TrainingSettings | None = None,
    base: IntakeModel | None = None,
) -> IntakeModel:
    """Fit the three heads on ``examples`` (from scratch, or adapting ``base``)."""
    settings = settings or TrainingSettings()
    categories = base.categories if base else CATEGORY_CODES
    grams_of = [features(example.text) | example.signals for example in examples]
    counts: Counter[str] = Counter()
    for grams in grams_of:
        counts.update(grams)
    if base is not None:
        vocabulary = list(base.grams)
        known = set(vocabulary)
        vocabulary += sorted(gram for gram in counts if gram not in known)
    else:
        vocabulary = sorted(gram for gram, count in counts.items() if count >= settings.min_count)
    index = {gram: column for column, gram in enumerate(vocabulary)}
    kept = [i for i, grams in enumerate(grams_of) if any(gram in index for gram in grams)]
    examples = [examples[i] for i in kept]
    starts, columns, values = _sparse_rows(
        [(features(examples[i].text), examples[i].signals) for i in range(len(examples))], index
    )

    n_categories = len(categories)
    width = 1 + n_categories + len(URGENCY_LEVELS)
    prior = np.zeros((len(vocabulary), width))
    prior_bias = np.zeros(width)
    if base is not None:
        prior[: len(base.grams)] = base.weights[1:]
        prior_bias[:] = base.bias
    weights, bias = prior.copy(), prior_bias.copy()
    if not examples:
        return IntakeModel(
            vocabulary, weights.astype(np.float32), bias.astype(np.float32), categories
        )

    size = len(examples)
    sample_weight = np.array([example.weight for example in examples])
    request_target = np.array([bool(example.is_request) for example in examples], float)
    request_mask = np.array([example.is_request is not None for example in examples], float)
    category_target = np.zeros((size, n_categories))
    urgency_target = np.zeros((size, len(URGENCY_LEVELS)))
    for row, example in enumerate(examples):
        if example.category in categories:
            category_target[row, categories.index(example.category)] = 1.0
        if example.urgency in URGENCY_LEVELS:
            urgency_target[row, URGENCY_LEVELS.index(example.urgency)] = 1.0
    category_mask = category_target.sum(axis=1)
    urgency_mask = urgency_target.sum(axis=1) * np.where(
        urgency_target[:, 0] > 0, settings.emergency_weight, 1.0
    )
    total_weight = float(sample_weight.sum())

    message_of_entry = np.repeat(np.arange(size), np.diff(np.append(starts, len(columns))))
    order = np.argsort(columns, kind="stable")
    sorted_columns = columns[order]
    used_columns, column_starts = np.unique(sorted_columns, return_index=True)
    nonempty_starts = starts  # every kept message has at least one known n-gram

    # Adapting moves only the n-grams: the rules' signals and the bias are shared by every
    # message, and a few corrections moving them would shift answers everywhere.
    movable = np.ones((len(vocabulary), 1))
    if base is not None:
        movable[[column for gram, column in index.items() if gram.startswith(SIGNAL_MARK)]] = 0.0
    first_moment = np.zeros_like(weights)
    second_moment = np.zeros_like(weights)
    bias_first = np.zeros_like(bias)
    bias_second = np.zeros_like(bias)
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8
    for step in range(1, settings.steps + 1):
        contributions = weights[columns] * values[:, None]
        logits = np.add.reduceat(contributions, nonempty_starts, axis=0) + bias

        gradient = np.zeros((size, width))
        request_prob = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        gradient[:, 0] = (request_prob - request_target) * request_mask
        category_logits = logits[:, 1 : 1 + n_categories]
        category_prob = np.exp(category_logits - category_logits.max(axis=1, keepdims=True))
        category_prob /= category_prob.sum(axis=1, keepdims=True)
        gradient[:, 1 : 1 + n_categories] = (category_prob - category_target) * category_mask[
            :, None
        ]
        urgency_logits = logits[:, 1 + n_categories :]
        urgency_prob = np.exp(urgency_logits - urgency_logits.max(axis=1, keepdims=True))
        urgency_prob /= urgency_prob.sum(axis=1, keepdims=True)
        gradient[:, 1 + n_categories :] = (urgency_prob - urgency_target) * urgency_mask[:, None]
        gradient *= sample_weight[:, None] / total_weight

        per_entry = (gradient[message_of_entry] * values[:, None])[order]
        weight_gradient = np.zeros_like(weights)
        weight_gradient[used_columns] = np.add.reduceat(per_entry, column_starts, axis=0)
        weight_gradient += settings.l2 * (weights - prior)
        bias_gradient = gradient.sum(axis=0)

        correction1 = 1 - beta1**step
        correction2 = 1 - beta2**step
        first_moment = beta1 * first_moment + (1 - beta1) * weight_gradient
        second_moment = beta2 * second_moment + (1 - beta2) * weight_gradient**2
        weights -= (
            settings.learning_rate
            * (first_moment / correction1)
            / (np.sqrt(second_moment / correction2) + epsilon)
        ) * movable
        if base is not None:
            continue  # adapting: the bias stays the base model's
        bias_first = beta1 * bias_first + (1 - beta1) * bias_gradient
        bias_second = beta2 * bias_second + (1 - beta2) * bias_gradient**2
        bias -= (
            settings.learning_rate
            * (bias_first / correction1)
            / (np.sqrt(bias_second / correction2) + epsilon)
        )
    return IntakeModel(vocabulary, weights.astype(np.float32), bias.astype(np.float32), categories)


def near_duplicate_groups(texts: Sequence[str]) -> list[int]:
    """A group number per text: twins (same letters, or most rare shingles shared) share one."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[root(i)] = root(j)

    stripped = [_NOISE.sub("", text.lower()) for text in texts]
    first_with: dict[str, int] = {}
    for i, key in enumerate(stripped):
        if key in first_with:
            join(i, first_with[key])
        else:
            first_with[key] = i
    shingles = [
        {key[k : k + _SHINGLE] for k in range(max(1, len(key) - _SHINGLE + 1))} for key in stripped
    ]
    holders: defaultdict[str, list[int]] = defaultdict(list)
    for i, own in enumerate(shingles):
        for shingle in own:
            holders[shingle].append(i)
    for i, own in enumerate(shingles):
        shared: Counter[int] = Counter()
        rare = 0
        for shingle in own:
            others = holders[shingle]
            if len(others) <= _RARE:
                rare += 1
                shared.update(j for j in others if j > i)
        for j, count in shared.items():
            if count >= _TWIN_SHARE * min(rare, len(shingles[j])):
                join(i, j)
    return [root(i) for i in range(len(texts))]


def fold_numbers(texts: Sequence[str], folds: int) -> list[int]:
    """A fold per text for k-fold cross-validation; near-duplicates share one fold.

    A group's fold comes from a hash of its first text, so it never moves between runs.
    """
    groups = near_duplicate_groups(texts)
    first_text: dict[int, str] = {}
    for text, group in zip(texts, groups, strict=True):
        first_text.setdefault(group, text)
    return [
        hashlib.sha256(first_text[group].encode("utf-8")).digest()[0] % folds for group in groups
    ]
