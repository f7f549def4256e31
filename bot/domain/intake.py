"""Resident intake: tell a complaint from chat, and read what, how urgent and where.

Residents write colloquial Chinese (simplified or traditional, dialect, typos, no
punctuation, emoji) and some English in the same group chat as thanks, notices,
ads and greetings. ``IntakeParser.parse`` turns the first kind into an ``Intake``
worth a ticket and leaves the rest alone. Pure standard library.

How a message is read
    1. Normalised (``intake_normalise``): NFKC, lower case, traditional characters
       mapped to simplified, dialect phrases rewritten in Mandarin, invisible
       characters dropped. Only the first ``MAX_CHARS`` characters are read.
    2. Scanned once (``intake_scan``) against a trie of every vocabulary word and
       one precompiled regex of the vocabulary's open-ended patterns, among them
       the semantic fields of danger ("<a gas> … 味", "<a person> … 不见了").
    3. Scored: evidence (problem words, complaint words, urgency words, a question
       about an askable subject, "天天" next to a subject) against non-request
       signals (fixed already, a drill, thanks, praise, notices, future outages,
       ads, phone numbers, chit-chat). A request needs evidence of at least 2 and a
       margin of at least 1 over the signals. A negation right before a word
       cancels it ("没有着火", "没人受伤"); a fix word is ignored when a problem
       follows it ("修好没两天又坏了"); politeness before "但是/不过" is ignored.
       Chit-chat, thanks and praise never outweigh a danger to life: a false
       emergency costs a phone call, a missed one may cost a life.
    4. Categorised by the points of subjects (capped) and issues, ties going to
       the category named first; given an urgency (emergency words and patterns;
       a lift with someone inside; outage and hazard words; a hazard next to a
       vulnerable person; a lift down at or above ``high_rise_floor``).
    5. Located (``intake_location``; the canonical forms are documented there).
    6. With a model (``intake_model``, the default in the bot): the rules read only the
       first ``RULE_CHARS`` characters, and what they saw becomes signals the model reads
       beside the character n-grams. The model decides request or not and the category;
       the rules' emergency stands unless the model is sure there is none (``Blend``).
       Hypotheticals ("万一着火", "what if") never make an emergency.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.domain.intake_location import Location, mentions_a_place, read_location
from bot.domain.intake_model import SIGNAL_MARK, IntakeModel, ModelScores
from bot.domain.intake_normalise import MAX_CHARS, Normaliser
from bot.domain.intake_scan import (
    EMERGENCY_EVIDENCE,
    PROBLEM_EVIDENCE,
    SUBJECT_POINTS,
    Entry,
    Hit,
    Scanner,
)
from bot.domain.intake_vocabulary import (
    CATEGORY_CODES,
    NON_REQUEST_KINDS,
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

_ASKABLE_EVIDENCE = 2.0  # a question or ask next to an askable subject ("社保卡怎么补办")
_EMPHASIS_EVIDENCE = 2.0  # "天天" next to a subject: a nuisance that keeps coming back
_ASK_BONUS = 1.0
_SUBJECT_CAP = 1.5  # naming many places does not outweigh one word of what is wrong
# Non-request signals, per kind: a second word of a kind adds half again, more add nothing.
_COUNTER_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "resolved": 3.0,
        "false_alarm": 3.0,
        "drill": 5.0,  # a drill outweighs the smoke and the alarm it announces
        "hearsay": 5.0,  # news from elsewhere: "隔壁小区着火了" is not a fire here
        "notice": 3.0,
        "advert": 3.0,
        "chat": 2.0,
        "laughter": 2.0,
        "praise": 1.0,
        "phone": 1.0,
        "thanks": 0.5,
        "acknowledgements": 0.5,
    }
)
# Against a danger to life: chit-chat, thanks and praise weigh nothing and a notice's
# tone ("请大家注意", "转发") half, since residents warn each other in those words.
# A drill, a fix, a false alarm, an ad or news from elsewhere still weigh in full, and
# laughter more ("救命 笑死我了" is slang).
_DANGER_COUNTER_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        **_COUNTER_WEIGHTS,
        "notice": _COUNTER_WEIGHTS["notice"] / 2,
        "laughter": 3.0,
        "chat": 0.0,
        "praise": 0.0,
        "phone": 0.0,
        "thanks": 0.0,
        "acknowledgements": 0.0,
    }
)
_FUTURE_WEIGHT = 1.0
_FUTURE_OUTAGE_WEIGHT = 2.0  # "明天停水" is a notice however it is phrased
# With a model, the rules read this much of a message: where a resident names the danger
# and the place. The model reads the rest (``intake_model.MAX_MODEL_CHARS``).
RULE_CHARS = 160
LOCATION_CHARS = 300
_MIN_EVIDENCE = 2.0
_MIN_NET = 1.0
_MAX_REASONS = 10
_COUNTER_ROLES = frozenset(NON_REQUEST_KINDS)
_RECURRENCE = frozenset({"problem", "emergency", "high"})  # after a fix word: it broke again
_SIGNAL_CACHE_SIZE = 8192
_IMAGINABLE = frozenset({"emergency", "trapped", "high"})
_IMAGINED_REACH = 16
_HYPOTHETICAL_RE = re.compile(r"万一|假如|假设|如果|要是哪天|要是|哪天|what if|\bif\b|in case")
_CLAUSE_END_RE = re.compile(r"[。！？!?.,，;；]")
_PHONE_RE = re.compile(r"(?<!\d)\d(?:[- ]?\d){9,11}(?!\d)")


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


@dataclass(frozen=True, slots=True)
class Intake:
    """What the parser made of one message."""

    is_request: bool
    category: str
    urgency: Urgency
    location: Location
    confidence: float
    reasons: tuple[str, ...]


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
        # Signal names per (vocabulary entry, negated): a few thousand at most.
        self._signal_names: dict[tuple[Entry, bool], tuple[str, ...]] = {}
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
        intake = self._parse(text, addressed)
        if len(text) > RECENT_TEXT_CHARS:
            return intake  # long texts are rare: not worth the memory
        if len(self._recent) >= RECENT_READINGS:
            del self._recent[next(iter(self._recent))]  # the oldest: insertion order
        self._recent[key] = intake
        return intake

    def _parse(self, text: str, addressed: bool) -> Intake:
        read = self._read(text)
        if read is None:
            return Intake(False, OTHER, Urgency.NORMAL, Location(), 1.0, ("empty",))
        normalised, hits, location, by_rules, (rule_urgency, urgency_reasons) = read
        if self.model is None:
            return by_rules
        signals = self._signals(hits, location, by_rules, rule_urgency)
        scores = self.model.score(normalised, signals)
        return self._blend(
            normalised, by_rules, scores, rule_urgency, urgency_reasons, location, addressed
        )

    def signals(self, text: str) -> tuple[str, frozenset[str]]:
        """``text`` as the model reads it: normalised, and what the rules saw in it."""
        read = self._read(text)
        if read is None:
            return "", frozenset()
        normalised, hits, location, by_rules, (rule_urgency, _) = read
        return normalised, self._signals(hits, location, by_rules, rule_urgency)

    def _read(
        self, text: str
    ) -> tuple[str, list[Hit], Location, Intake, tuple[Urgency, list[str]]] | None:
        normalised = self._normaliser.text(text) if isinstance(text, str) else ""
        if not normalised.strip():
            return None
        # The rules read the head of a long message (their cost grows with every
        # character); the model reads on to MAX_MODEL_CHARS.
        head = normalised[:RULE_CHARS] if self.model is not None else normalised
        hits = self._scanner.scan(head)
        place = normalised[:LOCATION_CHARS]
        location = read_location(place) if mentions_a_place(place) else Location()
        urgency = self._urgency(hits, location, head)
        return normalised, hits, location, self._decide(head, hits, location, urgency), urgency

    def _signals(
        self, hits: list[Hit], location: Location, by_rules: Intake, rule_urgency: Urgency
    ) -> frozenset[str]:
        found: set[str] = set()
        names = self._signal_names
        for hit in hits:
            key = (hit.entry, hit.negated)
            named = names.get(key)
            if named is None:
                named = _entry_signals(hit.entry, hit.negated)
                if len(names) < _SIGNAL_CACHE_SIZE:  # pattern matches are open-ended
                    names[key] = named
            found.update(named)
        if by_rules.is_request:
            found.add(f"{SIGNAL_MARK}R:request")
            found.add(f"{SIGNAL_MARK}R:c:{by_rules.category}")
        if rule_urgency is not Urgency.NORMAL:
            found.add(f"{SIGNAL_MARK}R:u:{rule_urgency.value}")
        if not location.is_empty():
            found.add(f"{SIGNAL_MARK}place")
        return frozenset(found)

    def _blend(
        self,
        normalised: str,
        by_rules: Intake,
        scores: ModelScores,
        rule_urgency: Urgency,
        urgency_reasons: list[str],
        location: Location,
        addressed: bool,
    ) -> Intake:
        blend = self.blend
        rule_emergency = by_rules.is_request and rule_urgency is Urgency.EMERGENCY
        threshold = blend.request_threshold
        if addressed:
            threshold = blend.addressed_threshold
        elif len(normalised) >= blend.long_chars:
            threshold = blend.long_threshold
        is_request = scores.request >= threshold
        emergency = (
            rule_emergency
            and scores.request >= blend.emergency_request_floor
            and scores.emergency >= blend.emergency_veto
        ) or (is_request and scores.emergency >= blend.emergency_alone)
        is_request = is_request or emergency
        model_reason = f"model {scores.request:.2f}"
        if not is_request:
            return Intake(
                False,
                OTHER,
                Urgency.NORMAL,
                location,
                round(1.0 - scores.request, 3),
                (model_reason, *by_rules.reasons)[:_MAX_REASONS],
            )
        if emergency:
            urgency = Urgency.EMERGENCY
            if not rule_emergency:
                urgency_reasons = [f"model {scores.emergency:.2f}→emergency"]
        elif rule_urgency is Urgency.HIGH or scores.urgency == "high":
            urgency = Urgency.HIGH
        else:
            urgency = Urgency.NORMAL
            urgency_reasons = []
        category = scores.category
        if by_rules.is_request and (
            by_rules.category not in self.model_categories
            or scores.category_confidence < blend.rule_category_below
        ):
            # A category the deployment added to the vocabulary (only the rules know it),
            # or a model unsure of its own.
            category = by_rules.category
        reasons = [model_reason, f"model→{category}", *urgency_reasons]
        reasons += [reason for reason in by_rules.reasons if reason not in reasons]
        return Intake(
            True,
            category,
            urgency,
            location,
            round(max(scores.request, 0.5), 3),
            tuple(reasons[:_MAX_REASONS]),
        )

    def _decide(
        self,
        text: str,
        hits: list[Hit],
        location: Location,
        urgency_read: tuple[Urgency, list[str]],
    ) -> Intake:
        has_askable = any(hit.entry.askable_subject and not hit.negated for hit in hits)
        has_subject = any(hit.entry.points and not hit.negated for hit in hits)
        last_contrast = max(
            (hit.start for hit in hits if "contrast" in hit.entry.roles), default=-1
        )

        evidence_words: dict[str, float] = {}
        last_recurrence = -1
        asked = False
        for hit in hits:
            roles = hit.entry.roles
            if hit.negated:
                if roles & {"notice", "resolved"}:
                    # "没通知", "别光提醒", "还没修好": complaining about the missing thing.
                    evidence_words[hit.word] = PROBLEM_EVIDENCE
                    last_recurrence = max(last_recurrence, hit.start)
                continue
            value = hit.entry.evidence
            if has_askable and roles & {"question", "ask"}:
                value = max(value, _ASKABLE_EVIDENCE)
            if has_subject and "emphasis" in roles:
                value = max(value, _EMPHASIS_EVIDENCE)
            asked = asked or "ask" in roles
            if value > 0:
                evidence_words[hit.word] = max(evidence_words.get(hit.word, 0.0), value)
            if roles & _RECURRENCE:
                last_recurrence = max(last_recurrence, hit.start)
        trapped = [hit for hit in hits if "trapped" in hit.entry.roles and not hit.negated]
        in_danger = any("emergency" in hit.entry.roles and not hit.negated for hit in hits)
        if trapped and any("lift" in hit.entry.roles for hit in hits):
            # "电梯停了 我妈还在里面": someone is shut in a lift.
            evidence_words[trapped[0].word] = EMERGENCY_EVIDENCE
            in_danger = True
        evidence = sum(evidence_words.values())
        weights = _DANGER_COUNTER_WEIGHTS if in_danger else _COUNTER_WEIGHTS

        counters: dict[str, list[str]] = {}
        future = ""
        for hit in hits:
            if hit.negated or hit.start < last_contrast:
                continue
            for role in hit.entry.roles & _COUNTER_ROLES:
                if not weights.get(role, 1.0):
                    continue
                if role == "resolved" and hit.start < last_recurrence:
                    continue  # "修好没两天又坏了": it broke again
                if role == "future":
                    future = future or hit.word
                elif hit.word not in counters.setdefault(role, []):
                    counters[role].append(hit.word)
        if weights["phone"] and _PHONE_RE.search(text):
            counters["phone"] = ["phone number"]
        # A second word of one kind ("提醒 … 请大家自觉") adds half again; more add nothing.
        counter = sum(
            weights[role] * (1.5 if len(words) > 1 else 1.0) for role, words in counters.items()
        )
        if future:
            outage = any("high" in hit.entry.roles and not hit.negated for hit in hits)
            counter += _FUTURE_OUTAGE_WEIGHT if outage else _FUTURE_WEIGHT
            counters["future"] = [future]

        net = evidence + (_ASK_BONUS if asked else 0.0) - counter
        is_request = evidence >= _MIN_EVIDENCE and net >= _MIN_NET
        counter_reasons = [f"{words[0]}→{role}" for role, words in counters.items()]
        if not is_request:
            confidence = 0.95 if evidence == 0 else 1.0 - _likelihood(net)
            reasons = counter_reasons + [f"{word}→evidence" for word in evidence_words]
            return Intake(
                False,
                OTHER,
                Urgency.NORMAL,
                location,
                round(confidence, 3),
                tuple(reasons[:_MAX_REASONS]) or ("no problem words",),
            )

        category = self._category(hits)
        urgency, urgency_reasons = urgency_read
        reasons = []
        for hit in hits:
            if hit.negated:
                reasons.append(f"{hit.word}→negated")
            elif any(code == category for code, _ in hit.entry.points):
                reasons.append(f"{hit.word}→{category}")
            elif hit.word in evidence_words and not hit.entry.roles & {"emergency", "high"}:
                reasons.append(f"{hit.word}→problem")
            elif "ask" in hit.entry.roles:
                reasons.append(f"{hit.word}→ask")
        reasons += urgency_reasons + counter_reasons
        return Intake(
            True,
            category,
            urgency,
            location,
            round(_likelihood(net), 3),
            tuple(dict.fromkeys(reasons))[:_MAX_REASONS],
        )

    def _category(self, hits: list[Hit]) -> str:
        subjects: dict[str, float] = {}
        issues: dict[str, float] = {}
        first_seen: dict[str, int] = {}
        asked_about = False
        for hit in hits:
            if hit.negated:
                continue
            asked_about = asked_about or "question" in hit.entry.roles
            for code, points in hit.entry.points:
                tally = subjects if points <= SUBJECT_POINTS else issues
                tally[code] = tally.get(code, 0.0) + points
                first_seen.setdefault(code, hit.start)
        if not first_seen:
            return OTHER
        scores = {
            code: min(subjects.get(code, 0.0), _SUBJECT_CAP) + issues.get(code, 0.0)
            for code in first_seen
        }
        if asked_about:
            # "居住证明需要房东签字吗" asks about paperwork, not about the landlord.
            for code in scores:
                if self.vocabulary.words[code].askable:
                    scores[code] += SUBJECT_POINTS
        # Ties go to the category named first: residents lead with what is broken.
        return max(scores, key=lambda code: (scores[code], -first_seen[code]))

    def _urgency(
        self, hits: list[Hit], location: Location, text: str = ""
    ) -> tuple[Urgency, list[str]]:
        first: dict[str, str] = {}
        for hit in hits:
            if hit.negated:
                continue
            for role in hit.entry.roles:
                if role in _IMAGINABLE and _imagined(text, hit.start):
                    continue  # "万一着火了怎么办": a worry, not a fire
                first.setdefault(role, hit.word)
        if "emergency" in first:
            return Urgency.EMERGENCY, [f"{first['emergency']}→emergency"]
        if "lift" in first and "trapped" in first:
            return Urgency.EMERGENCY, [f"{first['lift']}+{first['trapped']}→emergency"]
        if "high" in first:
            return Urgency.HIGH, [f"{first['high']}→high"]
        if "hazard" in first and "vulnerable" in first:
            return Urgency.HIGH, [f"{first['hazard']}+{first['vulnerable']}→high"]
        floor = location.floor
        if (
            "lift" in first
            and floor
            and floor.isdigit()
            and int(floor) >= self.vocabulary.high_rise_floor
        ):
            return Urgency.HIGH, [f"{first['lift']}+{floor}楼→high"]
        return Urgency.NORMAL, []


def _entry_signals(entry: Entry, negated: bool) -> tuple[str, ...]:
    """The signal names one vocabulary word gives the model: its roles, its categories."""
    if negated:
        return tuple(f"{SIGNAL_MARK}!{role}" for role in entry.roles)
    return tuple(SIGNAL_MARK + role for role in entry.roles) + tuple(
        f"{SIGNAL_MARK}c:{code}" for code, _ in entry.points
    )


def _imagined(text: str, start: int) -> bool:
    """Whether a hypothetical ("万一", "如果", "what if") opens the clause before ``start``."""
    before = text[max(0, start - _IMAGINED_REACH) : start]
    found = _HYPOTHETICAL_RE.search(before)
    return found is not None and not _CLAUSE_END_RE.search(before, found.end())


def _likelihood(net: float) -> float:
    """How sure a request it is, from the evidence margin (0.5 at the threshold's middle)."""
    return 1.0 / (1.0 + math.exp(-(net - 0.5) * 1.5))
