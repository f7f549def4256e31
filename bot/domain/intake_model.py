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

Scoring is a dictionary lookup per n-gram and one numpy sum, so its cost grows slowly
with length (see ``bench/intake_speed.py``). Training lives in ``intake_training``;
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

Weights = npt.NDArray[np.float32]


class ModelError(ValueError):
    """A model file that cannot be read (missing, truncated, another format)."""


def _gram_list(text: str) -> list[str]:
    """Every 3-, 2- and 1-gram of normalised ``text``, repeats included (digits folded)."""
    folded = " ".join(text[:MAX_MODEL_CHARS].translate(_DIGITS).split())
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
        self._index = {gram: row for row, gram in enumerate(grams, start=1)}

    def raw_scores(self, text: str, signals: Iterable[str] = ()) -> list[float]:
        """The heads' logits for normalised ``text`` (request, categories, urgency)."""
        index = self._index
        # Known n-grams as a set of rows: the set drops repeats, unknown ones map to 0.
        rows = set(filter(None, map(index.get, _gram_list(text))))
        logits = self.bias
        if rows:
            found = np.fromiter(rows, np.intp, len(rows))
            logits = logits + self.weights.take(found, axis=0).sum(axis=0) / math.sqrt(len(rows))
        signal_rows = [row for row in map(index.get, signals) if row]
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
