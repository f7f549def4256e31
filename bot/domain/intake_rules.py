"""The rules' reading of a scanned message: request or not, category, urgency.

``RuleReader`` weighs the ``Hit``s of ``intake_scan``: evidence (problem words, complaint
words, urgency words, a question about an askable subject, "天天" next to a subject)
against non-request signals (fixed already, a drill, thanks, praise, notices, future
outages, ads, phone numbers, chit-chat). A request needs evidence of at least 2 and a
margin of at least 1 over the signals. A negation right before a word cancels it ("没有着
火", "没人受伤"); a fix word is ignored when a problem follows it ("修好没两天又坏了");
politeness before "但是/不过" is ignored. Chit-chat, thanks and praise never outweigh a
danger to life: a false emergency costs a phone call, a missed one may cost a life.

Category goes by the points of subjects (capped) and issues, ties to the category named
first; urgency by emergency words and patterns, a lift with someone inside, outage and
hazard words, a hazard next to a vulnerable person, a lift down at or above
``high_rise_floor``. Hypotheticals ("万一着火", "what if") never make an emergency.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.domain.intake_location import Location
from bot.domain.intake_scan import EMERGENCY_EVIDENCE, PROBLEM_EVIDENCE, SUBJECT_POINTS, Hit
from bot.domain.intake_vocabulary import NON_REQUEST_KINDS, OTHER, Vocabulary
from bot.domain.models import Urgency

MAX_REASONS = 10
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
_MIN_EVIDENCE = 2.0
_MIN_NET = 1.0
_COUNTER_ROLES = frozenset(NON_REQUEST_KINDS)
_RECURRENCE = frozenset({"problem", "emergency", "high"})  # after a fix word: it broke again
_IMAGINABLE = frozenset({"emergency", "trapped", "high"})
_IMAGINED_REACH = 16
# What opens a worry, a near miss or a proposal rather than an event ("万一着火",
# "差点砸到人", "一旦起火", "容易撞到孩子", "建议装烟感报警器"): the labelling guide's
# "not emergencies". ("… 怎么办" after a danger is a cry for help as often as a worry.)
_HYPOTHETICAL_RE = re.compile(
    r"万一|假如|假设|如果|要是哪天|要是|哪天|what if|\bif\b|in case"
    r"|会不会|差点|差一点|险些|早晚会|迟早|一旦|以防|容易|可能会|小心|防止|建议"
)
_CLAUSE_END_RE = re.compile(r"[。！？!?.,，;；]")
_PHONE_RE = re.compile(r"(?<!\d)\d(?:[- ]?\d){9,11}(?!\d)")


@dataclass(frozen=True, slots=True)
class Intake:
    """What the parser made of one message."""

    is_request: bool
    category: str
    urgency: Urgency
    location: Location
    confidence: float
    reasons: tuple[str, ...]


class RuleReader:
    """The rules' verdict for one vocabulary; pure functions of the scan's hits."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def decide(
        self,
        text: str,
        hits: list[Hit],
        location: Location,
        urgency_read: tuple[Urgency, list[str]],
    ) -> Intake:
        """The rules' verdict: evidence against non-request signals, then category."""
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
                tuple(reasons[:MAX_REASONS]) or ("no problem words",),
            )

        category = self.category(hits)
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
            tuple(dict.fromkeys(reasons))[:MAX_REASONS],
        )

    def category(self, hits: list[Hit]) -> str:
        """Who must act, by the points of the subjects (capped) and issues named."""
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

    def urgency(
        self, hits: list[Hit], location: Location, text: str = ""
    ) -> tuple[Urgency, list[str]]:
        """How urgent, and the words that say so; hypotheticals ("万一着火") set aside."""
        first: dict[str, str] = {}
        # One search of the whole head first: most messages imagine nothing.
        imagining = _HYPOTHETICAL_RE.search(text) is not None
        for hit in hits:
            if hit.negated:
                continue
            for role in hit.entry.roles:
                if imagining and role in _IMAGINABLE and _imagined(text, hit.start):
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


def _imagined(text: str, start: int) -> bool:
    """Whether a hypothetical ("万一", "如果", "差点") opens the clause before ``start``."""
    before = text[max(0, start - _IMAGINED_REACH) : start]
    found = _HYPOTHETICAL_RE.search(before)
    return found is not None and not _CLAUSE_END_RE.search(before, found.end())


def _likelihood(net: float) -> float:
    """How sure a request it is, from the evidence margin (0.5 at the threshold's middle)."""
    return 1.0 / (1.0 + math.exp(-(net - 0.5) * 1.5))


@dataclass(frozen=True, slots=True)
class RuleReading:
    """What the rules read in one message, kept for the model and the blend."""

    text: str  # the normalised message, all of it (the rules read only its head)
    hits: list[Hit]
    location: Location
    verdict: Intake
    urgency: Urgency
    urgency_reasons: tuple[str, ...]
