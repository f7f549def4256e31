"""Find every vocabulary word and pattern in a normalised message, once, left to right.

Each listed word gets an ``Entry``: its roles (problem, emergency, notice …), the
category points it gives and how much evidence of a complaint it is. Words live
in a trie (the longest word at a position wins; the cost does not grow with the
number of words); the open-ended patterns are one precompiled regex. The result
is a list of ``Hit``s that ``bot.domain.intake`` weighs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.intake_normalise import Normaliser
from bot.domain.intake_patterns import PatternFinder
from bot.domain.intake_vocabulary import NON_REQUEST_KINDS, Vocabulary

# Evidence that something is wrong, per word role. A word with several roles counts
# its strongest one.
ISSUE_EVIDENCE = 2.0
PROBLEM_EVIDENCE = 2.0
HIGH_EVIDENCE = 2.0
EMERGENCY_EVIDENCE = 3.0
HAZARD_EVIDENCE = 1.0
SUBJECT_POINTS = 1.0
ISSUE_POINTS = 2.0

_SIGNAL_ROLES = {
    "problems": "problem",
    "emphasis": "emphasis",
    "asks": "ask",
    "questions": "question",
    "contrast": "contrast",
    "negations": "negation",
    "comparisons": "comparison",
    "shadows": "shadow",
}
_URGENCY_ROLES = {
    "emergency": "emergency",
    "high": "high",
    "hazards": "hazard",
    "vulnerable": "vulnerable",
    "lift": "lift",
    "trapped": "trapped",
}
_NEGATABLE = frozenset(
    {"issue", "problem", "emergency", "high", "hazard", "notice", "resolved", "trapped"}
)
_INHERITED_ROLES = frozenset({"vulnerable", "lift"})
_INHERITED_URGENCY = frozenset({"emergency", "high", "hazard"})  # only into evidence words
_EVIDENCE_ROLES = frozenset({"issue", "problem", "emergency", "high"})
URGENT_ROLES = frozenset({"emergency", "high"})
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_PATTERN_CACHE_SIZE = 4096
_END = ""  # trie key under which a node keeps the entry of the word ending there


@dataclass(frozen=True, slots=True)
class Entry:
    """Everything one vocabulary word or pattern means."""

    roles: frozenset[str]
    points: tuple[tuple[str, float], ...]  # (category code, score points)
    evidence: float
    askable_subject: bool = False
    ends_in_letter: bool = False  # an English word must end at a word boundary


@dataclass(frozen=True, slots=True)
class Hit:
    """A vocabulary word found in a message, where, what it means,
    and whether it was negated (没坏).
    """

    word: str
    start: int
    entry: Entry
    negated: bool = False


def _evidence(roles: frozenset[str] | set[str]) -> float:
    return max(
        ISSUE_EVIDENCE if "issue" in roles else 0.0,
        PROBLEM_EVIDENCE if "problem" in roles else 0.0,
        HIGH_EVIDENCE if "high" in roles else 0.0,
        EMERGENCY_EVIDENCE if "emergency" in roles else 0.0,
        HAZARD_EVIDENCE if "hazard" in roles else 0.0,
    )


def _compares(hit: Hit, text: str, start: int) -> bool:
    """Whether a likeness word at ``start`` ends the phrase ``hit`` ends ("着火(了)一样")."""
    gap = text[hit.start + len(hit.word) : start]
    return gap in ("", "了") and bool(hit.entry.roles & _NEGATABLE)


def _build_trie(entries: Mapping[str, Entry]) -> dict[str, Any]:
    trie: dict[str, Any] = {}
    for word, entry in entries.items():
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[_END] = entry
    return trie


def _longest_word(trie: Mapping[str, Any], text: str, start: int) -> tuple[int, Entry | None]:
    """Find the longest listed word starting at ``start``: its end and entry (a trie walk)."""
    if start and text[start] in _ASCII_WORD and text[start - 1] in _ASCII_WORD:
        return start, None  # "fire" is not the end of "campfire"
    node = trie
    best_end, best = start, None
    for position in range(start, len(text)):
        child: Mapping[str, Any] | None = node.get(text[position])
        if child is None:
            break
        node = child
        entry: Entry | None = node.get(_END)
        if entry is not None:
            after = position + 1
            if not (entry.ends_in_letter and after < len(text) and text[after] in _ASCII_WORD):
                best_end, best = after, entry
    return best_end, best


# Where patterns come from, in the order they are tried: where several match at one
# place the first listed wins, so danger comes before everything else.
_PATTERN_SOURCES: tuple[tuple[str, str, frozenset[str], float], ...] = (
    ("urgency", "emergency_patterns", frozenset({"emergency"}), EMERGENCY_EVIDENCE),
    ("categories", "emergency_patterns", frozenset({"issue", "emergency"}), EMERGENCY_EVIDENCE),
    ("urgency", "high_patterns", frozenset({"high"}), HIGH_EVIDENCE),
    ("categories", "high_patterns", frozenset({"issue", "high"}), HIGH_EVIDENCE),
    ("urgency", "trapped_patterns", frozenset({"trapped"}), 0.0),
    *(("non_request", f"{kind}_patterns", frozenset({kind}), 0.0) for kind in NON_REQUEST_KINDS),
    ("signals", "problem_patterns", frozenset({"problem"}), PROBLEM_EVIDENCE),
    ("categories", "patterns", frozenset({"issue"}), ISSUE_EVIDENCE),
)


def vocabulary_patterns(vocabulary: Vocabulary) -> Iterator[tuple[str, Entry]]:
    """Every pattern of ``vocabulary`` with what a match means, in the order they are tried."""
    for section, key, roles, evidence in _PATTERN_SOURCES:
        if section != "categories":
            lists: Mapping[str, tuple[str, ...]] = getattr(vocabulary, section)
            for pattern in lists.get(key, ()):
                yield vocabulary.expand(pattern), Entry(roles, (), evidence)
            continue
        for code, words in vocabulary.words.items():
            points = ((code, ISSUE_POINTS * words.weight),)
            for pattern in getattr(words, key):
                yield vocabulary.expand(pattern), Entry(roles, points, evidence)


class Scanner:
    """One vocabulary compiled for scanning; build once, call ``scan`` often."""

    def __init__(self, vocabulary: Vocabulary, normaliser: Normaliser) -> None:
        self._normalise_word = normaliser.word
        self.entries = self._compile_entries(vocabulary)
        self._trie = _build_trie(self.entries)
        self._urgent_trie = _build_trie(
            {word: entry for word, entry in self.entries.items() if entry.roles & URGENT_ROLES}
        )
        patterns = list(vocabulary_patterns(vocabulary))
        self._pattern_entries = [entry for _, entry in patterns]
        self._patterns = PatternFinder([pattern for pattern, _ in patterns])
        self._pattern_hits: dict[tuple[int, str], Entry] = {}
        # Where a word can start: its first two characters (or the whole of a one-character
        # word) must be there. Which of them a message holds is one set intersection in C;
        # walking the trie from every character that starts some word cost five times more.
        self._openings = frozenset(word[:2] for word in self.entries if len(word) > 1)
        self._single_words = frozenset(word for word in self.entries if len(word) == 1)

    def _compile_entries(self, vocabulary: Vocabulary) -> dict[str, Entry]:
        roles: dict[str, set[str]] = {}
        points: dict[str, dict[str, float]] = {}
        askable: set[str] = set()

        def add(word: str, role: str) -> str:
            key = self._normalise_word(word)
            if key:
                roles.setdefault(key, set()).add(role)
            return key

        for code, words in vocabulary.words.items():
            for kind, listed, value in (
                ("subject", words.subjects, SUBJECT_POINTS),
                ("issue", words.issues, ISSUE_POINTS * words.weight),
            ):
                for word in listed:
                    key = add(word, kind)
                    if key:
                        per_code = points.setdefault(key, {})
                        per_code[code] = max(per_code.get(code, 0.0), value)
                        if words.askable:
                            askable.add(key)
        for section, mapping in (
            (vocabulary.signals, _SIGNAL_ROLES),
            (vocabulary.urgency, _URGENCY_ROLES),
            (vocabulary.non_request, {kind: kind for kind in NON_REQUEST_KINDS}),
        ):
            for key_name, role in mapping.items():
                for word in section.get(key_name, ()):
                    add(word, role)
        _inherit(roles, points)

        entries = {}
        for word, word_roles in roles.items():
            if "shadow" in word_roles:
                entries[word] = Entry(frozenset({"shadow"}), (), 0.0)
                continue
            entries[word] = Entry(
                roles=frozenset(word_roles),
                points=tuple(points.get(word, {}).items()),
                evidence=_evidence(word_roles),
                askable_subject=word in askable,
                ends_in_letter=word[-1] in _ASCII_WORD and word[-1].isalpha(),
            )
        return entries

    def scan(self, text: str) -> list[Hit]:
        """Every listed word and pattern in ``text``, longest first, left to right."""
        patterns = self._patterns.find(text)
        hits: list[Hit] = []
        negation_end = -1
        position = 0
        trie = self._trie
        # Visit only the places where a word can start, and where patterns start.
        starts = sorted(self._word_starts(text).union(patterns))
        for start in starts:
            if start < position:
                continue
            end, entry = _longest_word(trie, text, start)
            pattern = patterns.get(start)
            # A pattern reads on where a listed word stops ("没" + "倒"), unless a
            # shadow says the phrase is harmless ("对不起").
            if pattern and pattern[0] > end and (entry is None or "shadow" not in entry.roles):
                end = pattern[0]
                entry = self._pattern_hit(pattern[1], text, start, end)
            if entry is None:
                continue
            position = end
            if "shadow" in entry.roles:
                negation_end = -1
                continue
            if "comparison" in entry.roles:
                # "着火一样辣", "像着了火似的": a likeness, not an event.
                if hits and _compares(hits[-1], text, start):
                    hits[-1] = replace(hits[-1], negated=True)
                negation_end = -1
                continue
            # A negation reaches only the word right after it: "不捡狗屎" still complains.
            negated = negation_end == start and bool(entry.roles & _NEGATABLE)
            hits.append(Hit(text[start:end], start, entry, negated))
            negation_end = end if "negation" in entry.roles else -1
        hits.extend(self._straddling_urgent_words(text, hits, patterns))
        return hits

    def _word_starts(self, text: str) -> set[int]:
        """Every place in ``text`` where a listed word may start (a superset of where one does)."""
        starts: set[int] = set()
        found = self._openings.intersection(map(str.__add__, text, text[1:]))
        for opening in (*found, *self._single_words.intersection(text)):
            at = text.find(opening)
            while at >= 0:
                starts.add(at)
                at = text.find(opening, at + 1)
        return starts

    def _straddling_urgent_words(
        self, text: str, hits: list[Hit], patterns: Mapping[int, tuple[int, int]]
    ) -> list[Hit]:
        """Urgency words and patterns the longest-word scan cut in two ("往外冒" + "火").

        Words wholly inside a longer word are left alone: "不停水了" means it is back.
        """
        found = []
        urgent = self._urgent_trie
        for hit in hits:
            hit_end = hit.start + len(hit.word)
            for start in range(hit.start + 1, hit_end):
                end, entry = (
                    _longest_word(urgent, text, start) if text[start] in urgent else (0, None)
                )
                pattern = patterns.get(start)
                if (
                    pattern
                    and pattern[0] > max(end, hit_end)
                    and self._pattern_entries[pattern[1] - 1].roles & URGENT_ROLES
                ):
                    end = pattern[0]
                    entry = self._pattern_hit(pattern[1], text, start, end)
                if entry is not None and end > hit_end:
                    # Out of a negation, still negated: "无人员|伤亡" is "无|人员伤亡".
                    negated = hit.negated or "negation" in hit.entry.roles
                    found.append(Hit(text[start:end], start, entry, negated))
        return found

    def _pattern_hit(self, index: int, text: str, start: int, end: int) -> Entry:
        """Merge a pattern's entry with what the listed words inside it say ("很危险": hazard)."""
        key = (index, text[start:end])
        cached = self._pattern_hits.get(key)
        if cached is not None:
            return cached
        entry = self._pattern_entries[index - 1]
        roles = set(entry.roles)
        points = dict(entry.points)
        # A notice or a fix phrase does not turn urgent for the danger it names.
        inherited = _INHERITED_ROLES | (_INHERITED_URGENCY if roles & _EVIDENCE_ROLES else set())
        for inner_start in range(start, end):
            inner_end, inner = _longest_word(self._trie, text, inner_start)
            if inner is None or inner_end > end or "shadow" in inner.roles:
                continue
            roles |= inner.roles & inherited
            for code, value in inner.points:
                points[code] = max(points.get(code, 0.0), value)
        merged = Entry(frozenset(roles), tuple(points.items()), entry.evidence)
        if len(self._pattern_hits) < _PATTERN_CACHE_SIZE:
            self._pattern_hits[key] = merged
        return merged


def _inherit(roles: dict[str, set[str]], points: dict[str, dict[str, float]]) -> None:
    """Give a compound the category, person and urgency of the listed words inside it.

    The scan keeps only the longest word, so "着火了" would hide the safety of "着火"
    and "独居老人" the vulnerable "老人". A word without category points of its own
    takes the best points of the words inside it; urgency passes only from a word's
    beginning and only into words that are themselves evidence ("停电通知" stays a
    notice, "排黑烟" a chimney).
    """
    has_own_points = set(points)
    for word, word_roles in roles.items():
        if "shadow" in word_roles or len(word) < 2:
            continue
        # Two characters at least: "哪个部门" is not about a door (门).
        parts = {word[i:j] for i in range(len(word)) for j in range(i + 2, len(word) + 1)} - {word}
        for part in parts:
            if part not in roles or "shadow" in roles[part]:
                continue
            word_roles |= roles[part] & _INHERITED_ROLES
            if word_roles & _EVIDENCE_ROLES and word.startswith(part):
                # "快掉下来" is as urgent as "快掉"; "排黑烟" is a chimney, not "黑烟".
                word_roles |= roles[part] & _INHERITED_URGENCY
            if word not in has_own_points:
                per_code = points.setdefault(word, {})
                for code, value in points.get(part, {}).items():
                    per_code[code] = max(per_code.get(code, 0.0), value)
