"""Resident intake: tell a complaint from chat, and read what, how urgent and where.

Residents write colloquial Chinese (simplified or traditional, dialect, typos, no
punctuation, emoji) and some English in the same group chat as thanks, notices,
ads and greetings. ``IntakeParser.parse`` turns the first kind into an ``Intake``
worth a ticket and leaves the rest alone.

How a message is read, one module per step:
    1. Normalised (``intake_normalise``): NFKC, lower case, traditional characters
       mapped to simplified, dialect phrases rewritten in Mandarin, invisible
       characters dropped. Only the first ``MAX_CHARS`` characters are read.
    2. Scanned once (``intake_scan``) against a trie of every vocabulary word and
       the vocabulary's open-ended patterns (``intake_patterns``), among them the
       semantic fields of danger ("<a gas> … 味", "<a person> … 不见了").
    3. Weighed by the rules (``intake_rules``): request or not, category, urgency.
    4. Located (``intake_location``; the canonical forms are documented there).
    5. With a model (``intake_model``, the default in the bot): the rules read only the
       first ``RULE_CHARS`` characters, and what they saw becomes signals the model reads
       beside the character n-grams; ``intake_blend`` decides from both. The model decides
       request or not and the category; the rules' emergency stands unless the model is
       sure there is none.
"""

from __future__ import annotations

from bot.domain.intake_blend import Blend, ModelSignals, decide
from bot.domain.intake_location import Location, mentions_a_place, read_location
from bot.domain.intake_model import IntakeModel
from bot.domain.intake_normalise import MAX_CHARS, Normaliser
from bot.domain.intake_rules import Intake, RuleReader, RuleReading
from bot.domain.intake_scan import Scanner
from bot.domain.intake_vocabulary import (
    CATEGORY_CODES,
    OTHER,
    Category,
    CategoryWords,
    Vocabulary,
    VocabularyError,
)
from bot.domain.models import Urgency

__all__ = [
    "CATEGORY_CODES",
    "MAX_CHARS",
    "Category",
    "CategoryWords",
    "Intake",
    "IntakeModel",
    "IntakeParser",
    "Blend",
    "Location",
    "Vocabulary",
    "VocabularyError",
]

# With a model, the rules read this much of a message: where a resident names the danger
# and the place. The model reads the rest (``intake_model.MAX_MODEL_CHARS``).
RULE_CHARS = 160
LOCATION_CHARS = RULE_CHARS  # the place is named early: 160 reads as well as 300 on every set


RECENT_READINGS = 512  # parse results kept (by text) ...
RECENT_TEXT_CHARS = 400  # ... of texts this long at most: a few hundred KB in all


class IntakeParser:
    """Reads resident messages with one vocabulary; build once, call ``parse`` often."""

    def __init__(
        self,
        vocabulary: Vocabulary | None = None,
        model: IntakeModel | None = None,
        blend: Blend | None = None,
    ) -> None:
        """``model=None`` reads with the rules alone; ``IntakeModel.shipped()`` is the default
        the bot runs with (``bot.app.build_parser``).
        """
        self.vocabulary = vocabulary or Vocabulary.default()
        self.model = model
        self.model_categories = frozenset(model.categories) if model else frozenset()
        self.blend = blend or Blend()
        self._normaliser = Normaliser(self.vocabulary.traditional, self.vocabulary.dialect)
        self._scanner = Scanner(self.vocabulary, self._normaliser)
        self._rules = RuleReader(self.vocabulary)
        self._signals = ModelSignals()
        # The latest readings: a message is read twice on its way (is it an emergency that
        # overtakes its chat's queue? then intake), and floods repeat the same words.
        self._recent: dict[tuple[str, bool], Intake] = {}

    def parse_location(self, text: str) -> Location:
        """Where the message says the problem is; empty ``Location`` when it does not."""
        return read_location(self._normaliser.text(text))

    def parse(self, text: str, *, addressed: bool = False) -> Intake:
        """Decide whether ``text`` is a request and read its category, urgency and place.

        ``addressed``: written to the bot itself (a private chat), not to a group.
        """
        key = (text, addressed)
        known = self._recent.get(key)
        if known is not None:
            return known
        intake = self.parse_fresh(text, addressed=addressed)
        if len(text) > RECENT_TEXT_CHARS:
            return intake  # long texts are rare: not worth the memory
        if len(self._recent) >= RECENT_READINGS:
            del self._recent[next(iter(self._recent))]  # the oldest: insertion order
        self._recent[key] = intake
        return intake

    def parse_fresh(self, text: str, *, addressed: bool = False) -> Intake:
        """``parse`` without the recent readings: what reading a text costs (benchmarks)."""
        reading = self.read(text)
        if reading is None:
            return Intake(False, OTHER, Urgency.NORMAL, Location(), 1.0, ("empty",))
        if self.model is None:
            return reading.verdict
        scores = self.model.score(reading.text, self._signals.of(reading))
        return decide(
            self.blend,
            reading,
            scores,
            addressed=addressed,
            model_categories=self.model_categories,
        )

    def signals(self, text: str) -> tuple[str, frozenset[str]]:
        """``text`` as the model reads it: normalised, and what the rules saw in it."""
        reading = self.read(text)
        if reading is None:
            return "", frozenset()
        return reading.text, self._signals.of(reading)

    def read(self, text: str) -> RuleReading | None:
        """What the rules make of ``text``; ``None`` when there is nothing to read."""
        normalised = self._normaliser.text(text) if isinstance(text, str) else ""
        if not normalised.strip():
            return None
        # The rules read the head of a long message (their cost grows with every
        # character); the model reads on to MAX_MODEL_CHARS.
        head = normalised[:RULE_CHARS] if self.model is not None else normalised
        hits = self._scanner.scan(head)
        place = normalised[:LOCATION_CHARS]
        location = read_location(place) if mentions_a_place(place) else Location()
        urgency, urgency_reasons = self._rules.urgency(hits, location, head)
        verdict = self._rules.decide(head, hits, location, (urgency, urgency_reasons))
        return RuleReading(normalised, hits, location, verdict, urgency, tuple(urgency_reasons))
