"""How the learned model and the rules decide together.

The rules' reading becomes signals the model reads beside the character n-grams
(``ModelSignals``): the roles and categories of the vocabulary words found, the rules' own
verdict, category and urgency, whether a place is named. Then ``decide`` makes one
``Intake`` of the model's scores and the rules' reading, with thresholds in ``Blend``
chosen by cross-validation (``bench/intake_quality.py --tune``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.intake_model import SIGNAL_MARK, ModelScores
from bot.domain.intake_rules import MAX_REASONS, Intake, RuleReading
from bot.domain.intake_scan import Entry
from bot.domain.intake_vocabulary import OTHER
from bot.domain.models import Urgency

_SIGNAL_CACHE_SIZE = 8192


@dataclass(frozen=True, slots=True)
class Blend:
    """How the learned model and the rules decide together (chosen by cross-validation,
    ``bench/intake_quality.py``).

    The model decides request or not, and the category. An emergency the rules read
    (a danger word or situation) stands unless the model is sure the message is no request
    at all (news, a story, a tip) or sure it is no emergency; one the model alone is sure
    of stands too. Location is the rules' alone.
    """

    request_threshold: float = 0.6
    # Written to the bot in a private chat: chit-chat is rare there and a false ticket
    # bothers nobody else, so the bar is lower.
    addressed_threshold: float = 0.3
    # A long message (a letter to the community) is rarely chit-chat: a lower bar reads
    # 97-98 % of the letters in cross-validation instead of 94 %.
    long_threshold: float = 0.3
    long_chars: int = 100
    emergency_request_floor: float = 0.3  # a rule emergency needs this request probability
    emergency_veto: float = 0.2  # ... and this emergency probability
    emergency_alone: float = 0.3  # the model alone calls an emergency from here
    rule_category_below: float = 0.0  # the rules' category wins under this model confidence


class ModelSignals:
    """Names what the rules saw for the model; remembers each vocabulary word's names."""

    def __init__(self) -> None:
        # Signal names per (vocabulary entry, negated): a few thousand at most.
        self._names: dict[tuple[Entry, bool], tuple[str, ...]] = {}

    def of(self, reading: RuleReading) -> frozenset[str]:
        """The signals of one reading: word roles and categories, the rules' verdict, place."""
        found: set[str] = set()
        names = self._names
        for hit in reading.hits:
            key = (hit.entry, hit.negated)
            named = names.get(key)
            if named is None:
                named = _entry_signals(hit.entry, hit.negated)
                if len(names) < _SIGNAL_CACHE_SIZE:  # pattern matches are open-ended
                    names[key] = named
            found.update(named)
        if reading.verdict.is_request:
            found.add(f"{SIGNAL_MARK}R:request")
            found.add(f"{SIGNAL_MARK}R:c:{reading.verdict.category}")
        if reading.urgency is not Urgency.NORMAL:
            found.add(f"{SIGNAL_MARK}R:u:{reading.urgency.value}")
        if not reading.location.is_empty():
            found.add(f"{SIGNAL_MARK}place")
        return frozenset(found)


def decide(
    blend: Blend,
    reading: RuleReading,
    scores: ModelScores,
    *,
    addressed: bool = False,
    model_categories: frozenset[str] = frozenset(),
) -> Intake:
    """One ``Intake`` from the model's scores and the rules' reading (see ``Blend``).

    ``model_categories``: the categories the model knows; a rule category outside them
    (one a deployment added to its vocabulary) is kept.
    """
    rule_emergency = reading.verdict.is_request and reading.urgency is Urgency.EMERGENCY
    threshold = blend.request_threshold
    if addressed:
        threshold = blend.addressed_threshold
    elif len(reading.text) >= blend.long_chars:
        threshold = blend.long_threshold
    is_request = scores.request >= threshold
    emergency = (
        rule_emergency
        and scores.request >= blend.emergency_request_floor
        and scores.emergency >= blend.emergency_veto
    ) or (is_request and scores.emergency >= blend.emergency_alone)
    is_request = is_request or emergency
    urgency_reasons = reading.urgency_reasons
    model_reason = f"model {scores.request:.2f}"
    if not is_request:
        return Intake(
            False,
            OTHER,
            Urgency.NORMAL,
            reading.location,
            round(1.0 - scores.request, 3),
            (model_reason, *reading.verdict.reasons)[:MAX_REASONS],
        )
    if emergency:
        urgency = Urgency.EMERGENCY
        if not rule_emergency:
            urgency_reasons = (f"model {scores.emergency:.2f}→emergency",)
    elif reading.urgency is Urgency.HIGH or scores.urgency == "high":
        urgency = Urgency.HIGH
    else:
        urgency = Urgency.NORMAL
        urgency_reasons = ()
    category = scores.category
    if reading.verdict.is_request and (
        reading.verdict.category not in model_categories
        or scores.category_confidence < blend.rule_category_below
    ):
        # A category the deployment added to the vocabulary (only the rules know it),
        # or a model unsure of its own.
        category = reading.verdict.category
    reasons = [model_reason, f"model→{category}", *urgency_reasons]
    reasons += [reason for reason in reading.verdict.reasons if reason not in reasons]
    return Intake(
        True,
        category,
        urgency,
        reading.location,
        round(max(scores.request, 0.5), 3),
        tuple(reasons[:MAX_REASONS]),
    )


def _entry_signals(entry: Entry, negated: bool) -> tuple[str, ...]:
    """The signal names one vocabulary word gives the model: its roles, its categories."""
    if negated:
        return tuple(f"{SIGNAL_MARK}!{role}" for role in entry.roles)
    return tuple(SIGNAL_MARK + role for role in entry.roles) + tuple(
        f"{SIGNAL_MARK}c:{code}" for code, _ in entry.points
    )
