"""The learned half of intake: a linear model over character n-grams.

A message (already normalised by ``intake_normalise``: simplified characters, dialect
rewritten, lower case) is read as the set of its character 1-, 2- and 3-grams, digits
folded to "0" so that "3栋" and "15栋" are one feature. Each known n-gram has a row of
weights; a message's scores are the sum of its rows, divided by the square root of how
many there are (long letters and short chat weigh alike), plus a bias. Three heads share
the rows:

    request    is it something the grid must act on or answer (sigmoid)
    category   who must act, for requests (softmax over ``CATEGORY_CODES``)
    urgency    emergency / high / normal, for requests (softmax)

Beside the n-grams the model reads the rules' signals (``SIGNAL_MARK`` + a name: the
roles of the vocabulary words found, the rules' own verdict, category and urgency), each
worth 1 whatever the length: the vocabulary's knowledge ("着火" is a danger, "听说" is
hearsay) then generalises to words the training data never showed next to it, and the
model learns how far to trust each rule.

Scoring packs each n-gram's code points into one integer (21 bits a character) and finds
all of a message's n-grams at once in a bucketed hash table of the model's keys (numpy:
one gather and one comparison), so there is no Python step per character and the cost
grows slowly with length (see ``bench/intake_speed.py``). Training lives in ``intake_training``;
the model is one ``.npz`` file (``bot/domain/data/intake_model.npz`` is shipped).

numpy is the one import here outside the standard library: summing a few hundred
weight rows in pure Python costs ten times as much, and numpy is already installed
(matplotlib needs it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

URGENCY_LEVELS = ("emergency", "high", "normal")
FORMAT_VERSION = 1
# A message is read up to here: a complaint says what it is early, and the tail of a
# long paste must not cost every other resident time.
MAX_MODEL_CHARS = 600
# Starts every signal name; the normaliser turns control characters into spaces, so no
# n-gram of a message can start with it.
SIGNAL_MARK = "\x01"
_DIGITS = str.maketrans("0123456789", "0000000000")
_CHAR_BITS = 21  # every Unicode code point fits; no n-gram holds code point 0
_NO_KEY = -1  # an empty slot of the key table: no n-gram packs to a negative number
_BUCKET_WIDTH = 8  # slots per bucket; with at least as many buckets as keys, none overflows
_HASH_MULTIPLIER = 0x9E3779B97F4A7C15  # Fibonacci hashing: spreads packed keys evenly

Weights = npt.NDArray[np.float32]


class ModelError(ValueError):
    """A model file that cannot be read (missing, truncated, another format)."""


def _folded(text: str) -> str:
    """``text`` as the n-grams are taken from it: clipped, digits as "0", spaces single."""
    return " ".join(text[:MAX_MODEL_CHARS].translate(_DIGITS).split())


def gram_key(gram: str) -> int:
    """The integer an n-gram of one to three characters is looked up by."""
    key = 0
    for char in gram:
        key = (key << _CHAR_BITS) | ord(char)
    return key


def _gram_keys(text: str) -> npt.NDArray[np.int64]:
    """The keys of every 3-, 2- and 1-gram of normalised ``text`` (as ``_gram_list``)."""
    codes = np.frombuffer(_folded(text).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    shifted = codes << _CHAR_BITS
    pairs = shifted[:-1] | codes[1:]
    return np.concatenate(((pairs[:-1] << _CHAR_BITS) | codes[2:], pairs, codes))


def _gram_list(text: str) -> list[str]:
    """Every 3-, 2- and 1-gram of normalised ``text``, repeats included (digits folded)."""
    folded = _folded(text)
    length = len(folded)
    grams = [folded[i : i + 3] for i in range(length - 2)]
    grams += [folded[i : i + 2] for i in range(length - 1)]
    grams += folded
    return grams


def features(text: str) -> set[str]:
    """The n-grams of normalised ``text`` the model reads (digits folded to "0")."""
    grams = set(_gram_list(text))
    grams.discard(" ")
    return grams


@dataclass(frozen=True, slots=True)
class ModelScores:
    """What the model makes of one message."""

    request: float  # probability that it is a request
    category: str
    category_confidence: float
    urgency: str
    emergency: float  # probability of an emergency, were it a request


class IntakeModel:
    """Weights for the three heads; build with ``load`` or from ``intake_training``."""

    def __init__(
        self,
        grams: list[str],
        weights: Weights,
        bias: Weights,
        categories: tuple[str, ...],
    ) -> None:
        if weights.shape != (len(grams), 1 + len(categories) + len(URGENCY_LEVELS)):
            raise ModelError(f"weights of shape {weights.shape} do not fit {len(grams)} n-grams")
        self.grams = grams
        self.categories = categories
        # Row 0 is all zeros: unknown n-grams map to it, so lookups need no branch.
        self.weights = np.vstack([np.zeros((1, weights.shape[1]), np.float32), weights]).astype(
            np.float32
        )
        self.bias = bias.astype(np.float32)
        # Signals by name; n-grams by their integer keys, sorted for a binary search.
        self._signal_rows = {
            gram: row for row, gram in enumerate(grams, start=1) if gram.startswith(SIGNAL_MARK)
        }
        keyed = [
            (gram_key(gram), row)
            for row, gram in enumerate(grams, start=1)
            if not gram.startswith(SIGNAL_MARK)
        ]
        self._table = _KeyTable(
            np.array([key for key, _ in keyed], dtype=np.int64),
            np.array([row for _, row in keyed], dtype=np.intp),
        )

    def raw_scores(self, text: str, signals: Iterable[str] = ()) -> list[float]:
        """The heads' logits for normalised ``text`` (request, categories, urgency)."""
        rows = self._table.rows(_gram_keys(text))
        logits = self.bias
        if len(rows):
            logits = logits + self.weights.take(rows, axis=0).sum(axis=0) / math.sqrt(len(rows))
        signal_rows = [row for row in map(self._signal_rows.get, signals) if row]
        if signal_rows:
            logits = logits + self.weights.take(signal_rows, axis=0).sum(axis=0)
        return list(map(float, logits))

    def score(self, text: str, signals: Iterable[str] = ()) -> ModelScores:
        """Request probability, category and urgency for normalised ``text`` and its signals."""
        logits = self.raw_scores(text, signals)
        count = len(self.categories)
        request = 1.0 / (1.0 + math.exp(-logits[0]))
        category_logits = logits[1 : 1 + count]
        top = max(category_logits)
        best = category_logits.index(top)
        category_total = sum(math.exp(value - top) for value in category_logits)
        urgency_logits = logits[1 + count :]
        urgency_top = max(urgency_logits)
        urgency_odds = [math.exp(value - urgency_top) for value in urgency_logits]
        urgency_total = sum(urgency_odds)
        return ModelScores(
            request=request,
            category=self.categories[best],
            category_confidence=1.0 / category_total,
            urgency=URGENCY_LEVELS[urgency_odds.index(1.0)],
            emergency=urgency_odds[0] / urgency_total,
        )

    def save(self, path: Path) -> None:
        """Write the model as one compressed ``.npz`` file (float16 weights)."""
        with path.open("wb") as out:
            np.savez_compressed(
                out,
                version=np.array(FORMAT_VERSION),
                grams=np.array("\n".join(self.grams)),
                categories=np.array("\n".join(self.categories)),
                weights=self.weights[1:].astype(np.float16),
                bias=self.bias,
            )

    @classmethod
    def load(cls, path: Path) -> IntakeModel:
        """Read a model written by ``save``; ``ModelError`` says what is wrong with it."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                version = int(stored["version"])
                if version != FORMAT_VERSION:
                    raise ModelError(f"{path}: model format {version}, expected {FORMAT_VERSION}")
                grams = str(stored["grams"]).split("\n")
                categories = tuple(str(stored["categories"]).split("\n"))
                weights = stored["weights"].astype(np.float32)
                bias = stored["bias"].astype(np.float32)
        except ModelError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever a bad file raises, say so plainly
            raise ModelError(f"{path}: not an intake model ({error})") from None
        return cls(grams, weights, bias, categories)

    @classmethod
    def shipped(cls) -> IntakeModel:
        """The model trained on the project's labelled data (``bot/domain/data``)."""
        with resources.as_file(
            resources.files("bot.domain.data").joinpath("intake_model.npz")
        ) as path:
            return cls.load(path)


class _KeyTable:
    """Packed n-gram keys → weight rows: a hash table of fixed-width buckets, read in numpy.

    A lookup is one multiply-shift per key, one gather of its bucket and one comparison,
    for every n-gram of a message at once. (A binary search of sorted keys cost twice as
    much on letters; a Python dict of strings, three times.) The multiplier is varied
    until no bucket overflows, which the table's size makes all but certain the first time.
    """

    def __init__(self, keys: npt.NDArray[np.int64], rows: npt.NDArray[np.intp]) -> None:
        # One to two buckets per key: a bucket holds one key on average, more than eight
        # about once in a million buckets.
        bits = max(4, len(keys).bit_length())
        self._shift = np.uint64(64 - bits)
        for attempt in range(64):
            multiplier = np.uint64((_HASH_MULTIPLIER * (2 * attempt + 1)) % (1 << 64))
            bucket = self._bucket(keys, multiplier, self._shift)
            order = np.argsort(bucket, kind="stable")
            in_order = bucket[order]
            rank = np.arange(len(keys)) - np.searchsorted(in_order, in_order)
            if not len(rank) or rank.max() < _BUCKET_WIDTH:
                break
        else:  # pragma: no cover - 64 overflowing tables in a row do not happen
            raise ModelError("could not build the n-gram table")
        self._multiplier = multiplier
        self._keys = np.full((1 << bits, _BUCKET_WIDTH), _NO_KEY, dtype=np.int64)
        self._rows = np.zeros((1 << bits, _BUCKET_WIDTH), dtype=np.int32)
        self._keys[in_order, rank] = keys[order]
        self._rows[in_order, rank] = rows[order]

    @staticmethod
    def _bucket(
        keys: npt.NDArray[np.int64], multiplier: np.uint64, shift: np.uint64
    ) -> npt.NDArray[np.intp]:
        return ((keys.view(np.uint64) * multiplier) >> shift).astype(np.intp)

    def rows(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
        """The distinct rows of the known ``keys`` (a repeated n-gram counts once)."""
        bucket = self._bucket(keys, self._multiplier, self._shift)
        found = self._rows[bucket][self._keys[bucket] == keys[:, None]]
        found.sort()
        if len(found) > 1:
            found = found[np.concatenate(([True], found[1:] != found[:-1]))]
        return found
