"""Resident intake: tell a complaint from chat, and read what, how urgent and where.

Residents write colloquial Chinese (simplified or traditional, dialect, typos, no
punctuation, emoji) and some English in the same group chat as thanks, notices,
ads and greetings. ``IntakeParser.parse`` turns the first kind into an ``Intake``
worth a ticket and leaves the rest alone. Pure standard library.

How a message is read
    1. Normalised: NFKC (full-width digits and letters become ASCII), lower case,
       traditional characters mapped to simplified, invisible format characters
       (zero-width joiners, RTL marks) dropped, control characters made spaces.
       Only the first ``MAX_CHARS`` characters are read.
    2. Scanned once with one precompiled regex of every vocabulary word (a trie, so
       the longest word at a position wins and the cost does not grow with the
       number of words).
    3. Scored: evidence (problem words, complaint words, urgency words, a question
       about an askable subject) against non-request signals (fixed already,
       thanks, notices, future outages, ads, chit-chat). A negation just before a
       word cancels it ("没有着火"); a fix word is ignored when a problem follows it
       ("修好没两天又坏了"); politeness before "但是/不过" is ignored.

Canonical location forms (``Location``)
    building  Arabic digits, "3" for 3栋/三栋/3幢/3号楼/3#楼/"building 3";
              a letter in upper case, "A" for A栋/A座; a zone or phase prefix
              kept, "B区7" for B区7幢, "东区5" for 东区5栋, "2期3" for 二期3栋.
    unit      Arabic digits, "2" for 2单元/二单元.
    floor     Arabic digits, "15" for 15楼/十五楼/15层/"15th floor"; "-1" for 负一楼.
              Only when written: a room number does not imply its floor.
    room      Digits as written, "502" for 502/502室/3-2-502.
    Chinese numerals 一..九十九 and 两 become Arabic. 楼下/楼上/楼道 are not floors,
    "这两栋楼" is not building 2, and phone numbers, times and dates ("9点", "2号")
    are never locations.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from bot.domain.models import Urgency

MAX_CHARS = 1000  # a complaint says what it is early; the rest of a 4k paste is not read

CATEGORY_CODES: tuple[str, ...] = (
    "property",
    "municipal",
    "environment",
    "safety",
    "order",
    "dispute",
    "assistance",
    "service",
    "suggestion",
    "other",
)
OTHER = "other"

# Evidence that something is wrong, per word role. A word with several roles counts
# its strongest one.
_ISSUE_EVIDENCE = 2.0
_PROBLEM_EVIDENCE = 2.0
_HIGH_EVIDENCE = 2.0
_EMERGENCY_EVIDENCE = 3.0
_HAZARD_EVIDENCE = 1.0
_ASKABLE_EVIDENCE = 2.0  # a question or ask next to an askable subject ("社保卡怎么补办")
_ASK_BONUS = 1.0
_SUBJECT_POINTS = 1.0
_ISSUE_POINTS = 2.0
# Non-request signals; each kind counts once however many of its words appear.
_COUNTER_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "resolved": 3.0,
        "false_alarm": 3.0,
        "notice": 3.0,
        "advert": 3.0,
        "chat": 2.0,
        "praise": 1.0,
        "phone": 1.0,
        "thanks": 0.5,
        "acknowledgements": 0.5,
    }
)
_FUTURE_WEIGHT = 1.0
_FUTURE_OUTAGE_WEIGHT = 2.0  # "明天停水" is a notice however it is phrased
_MIN_EVIDENCE = 2.0
_MIN_NET = 1.0
_NEGATION_REACH = 1  # characters allowed between a negation and the word it negates ("别光提醒")
_MAX_REASONS = 10

_SIGNAL_KEYS = ("problems", "asks", "questions", "contrast", "negations", "shadows")
_NON_REQUEST_KEYS = (
    "resolved",
    "false_alarm",
    "thanks",
    "praise",
    "notice",
    "future",
    "advert",
    "chat",
    "acknowledgements",
)
_URGENCY_KEYS = ("emergency", "high", "hazards", "vulnerable", "lift")
_CATEGORY_KEYS = ("label_zh", "label_en", "subjects", "issues", "weight", "askable")
_CATEGORY_CODE_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")


class VocabularyError(ValueError):
    """The vocabulary data or a deployment's override of it is malformed."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is, in the canonical forms of the module docstring."""

    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None

    def is_empty(self) -> bool:
        return not (self.building or self.unit or self.floor or self.room)

    def label(self) -> str:
        """Short human text: "3栋2单元502", "40栋15楼", "" when nothing is known."""
        parts = []
        if self.building:
            parts.append(f"{self.building}栋")
        if self.unit:
            parts.append(f"{self.unit}单元")
        if self.room:
            parts.append(self.room)
        elif self.floor:
            parts.append(f"{self.floor}楼")
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class Intake:
    """What the parser made of one message."""

    is_request: bool
    category: str
    urgency: Urgency
    location: Location
    confidence: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CategoryWords:
    """The words that point at one category (see the data file for the roles)."""

    category: Category
    subjects: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    weight: float = 1.0
    askable: bool = False


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every word list the parser reads with; immutable, extended by ``merged_with``."""

    words: Mapping[str, CategoryWords]
    signals: Mapping[str, tuple[str, ...]]
    non_request: Mapping[str, tuple[str, ...]]
    urgency: Mapping[str, tuple[str, ...]]
    high_rise_floor: int
    traditional: Mapping[str, str]

    @property
    def categories(self) -> Mapping[str, Category]:
        return MappingProxyType({code: words.category for code, words in self.words.items()})

    @classmethod
    def default(cls) -> Vocabulary:
        """The vocabulary packaged in ``bot/domain/data/intake_vocabulary.toml``."""
        return _default_vocabulary()

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Vocabulary:
        """Build from a parsed TOML table shaped like the data file."""
        return _EMPTY_VOCABULARY.merged_with(table)

    def merged_with(self, overrides: Mapping[str, Any]) -> Vocabulary:
        """This vocabulary plus ``overrides`` (same structure as the data file).

        Word lists are extended, never replaced; a category code not seen yet is
        added after the existing ones and must bring both labels. Raises
        ``VocabularyError`` naming the offending key.
        """
        if not isinstance(overrides, Mapping):
            raise VocabularyError("intake vocabulary: expected a table of overrides")
        known = {"schema", "categories", "signals", "non_request", "urgency", "traditional"}
        for key in overrides:
            if key not in known:
                raise VocabularyError(
                    f"intake vocabulary: unknown key {key!r} (expected one of {sorted(known)})"
                )
        words = dict(self.words)
        categories = _table(overrides, "categories", "categories")
        for code, body in categories.items():
            words[code] = _merge_category(words.get(code), str(code), body)
        urgency_table = _table(overrides, "urgency", "urgency")
        high_rise_floor = self.high_rise_floor
        if "high_rise_floor" in urgency_table:
            value = urgency_table["high_rise_floor"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise VocabularyError(
                    "intake vocabulary: urgency.high_rise_floor must be a positive integer"
                )
            high_rise_floor = value
        urgency_lists = {k: v for k, v in urgency_table.items() if k != "high_rise_floor"}
        traditional = dict(self.traditional)
        traditional.update(_traditional_pairs(_table(overrides, "traditional", "traditional")))
        return Vocabulary(
            words=MappingProxyType(words),
            signals=_merge_lists(self.signals, overrides, "signals", _SIGNAL_KEYS),
            non_request=_merge_lists(self.non_request, overrides, "non_request", _NON_REQUEST_KEYS),
            urgency=_merge_lists(self.urgency, {"urgency": urgency_lists}, "urgency", _URGENCY_KEYS),
            high_rise_floor=high_rise_floor,
            traditional=MappingProxyType(traditional),
        )


def _table(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, Mapping):
        raise VocabularyError(f"intake vocabulary: {where} must be a table")
    return value


def _word_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise VocabularyError(f"intake vocabulary: {where} must be a list of strings")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise VocabularyError(
                f"intake vocabulary: {where} must contain non-empty strings, got {item!r}"
            )
    return tuple(item.strip() for item in value)


def _extend(old: tuple[str, ...], new: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*old, *new)))


def _merge_lists(
    old: Mapping[str, tuple[str, ...]],
    overrides: Mapping[str, Any],
    section: str,
    keys: Sequence[str],
) -> Mapping[str, tuple[str, ...]]:
    body = _table(overrides, section, section)
    merged = {key: old.get(key, ()) for key in keys}
    for key, value in body.items():
        if key not in keys:
            raise VocabularyError(
                f"intake vocabulary: unknown key {section}.{key} (expected one of {list(keys)})"
            )
        merged[key] = _extend(merged[key], _word_list(value, f"{section}.{key}"))
    return MappingProxyType(merged)


def _merge_category(old: CategoryWords | None, code: str, body: Any) -> CategoryWords:
    where = f"categories.{code}"
    if not _CATEGORY_CODE_RE.fullmatch(code):
        raise VocabularyError(
            f"intake vocabulary: category code {code!r} must be lower-case ascii, like 'parking'"
        )
    if not isinstance(body, Mapping):
        raise VocabularyError(f"intake vocabulary: {where} must be a table")
    for key in body:
        if key not in _CATEGORY_KEYS:
            raise VocabularyError(
                f"intake vocabulary: unknown key {where}.{key} (expected one of {list(_CATEGORY_KEYS)})"
            )
    labels = {}
    for key in ("label_zh", "label_en"):
        value = body.get(key, getattr(old.category, key) if old else None)
        if not isinstance(value, str) or not value.strip():
            raise VocabularyError(f"intake vocabulary: {where}.{key} must be a non-empty string")
        labels[key] = value.strip()
    weight = body.get("weight", old.weight if old else 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        raise VocabularyError(f"intake vocabulary: {where}.weight must be a positive number")
    askable = body.get("askable", old.askable if old else False)
    if not isinstance(askable, bool):
        raise VocabularyError(f"intake vocabulary: {where}.askable must be true or false")
    return CategoryWords(
        category=Category(code, labels["label_zh"], labels["label_en"]),
        subjects=_extend(old.subjects if old else (), _word_list(body.get("subjects", []), f"{where}.subjects")),
        issues=_extend(old.issues if old else (), _word_list(body.get("issues", []), f"{where}.issues")),
        weight=float(weight),
        askable=askable,
    )


def _traditional_pairs(body: Mapping[str, Any]) -> dict[str, str]:
    for key in body:
        if key != "chars":
            raise VocabularyError(f"intake vocabulary: unknown key traditional.{key}")
    chars = body.get("chars", "")
    if not isinstance(chars, str):
        raise VocabularyError("intake vocabulary: traditional.chars must be a string")
    pairs = {}
    for pair in chars.split():
        if len(pair) != 2:
            raise VocabularyError(
                f"intake vocabulary: traditional.chars holds '繁简' pairs, got {pair!r}"
            )
        pairs[pair[0]] = pair[1]
    return pairs


_EMPTY_VOCABULARY = Vocabulary(
    words=MappingProxyType({}),
    signals=MappingProxyType({}),
    non_request=MappingProxyType({}),
    urgency=MappingProxyType({}),
    high_rise_floor=10,
    traditional=MappingProxyType({}),
)


@cache
def _default_vocabulary() -> Vocabulary:
    text = resources.files("bot.domain.data").joinpath("intake_vocabulary.toml").read_text("utf-8")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise VocabularyError(f"intake vocabulary data file: {error}") from error
    return Vocabulary.from_table(table)


# ---------------------------------------------------------------- normalising

# Dropped: zero-width characters, bidi marks, variation selectors, soft hyphen.
_INVISIBLE = [0x00AD, 0x180E, 0xFE0E, 0xFE0F, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070)]
_CONTROL = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_DASHES = "‐‑‒–—―−－"


def _translation_table(traditional: Mapping[str, str]) -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(t): s for t, s in traditional.items()}
    table.update({code: None for code in _INVISIBLE})
    table.update({code: " " for code in _CONTROL})
    table.update({ord(dash): "-" for dash in _DASHES})
    return table


def _normalise(text: str, table: Mapping[int, str | None]) -> str:
    return unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS].lower().translate(table)


# ---------------------------------------------------------------- locations

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "零〇一二两三四五六七八九十"
_QUANTITY_BEFORE = "这那哪几每各整好"  # "这两栋楼", "每栋楼", "好几栋" count buildings, not name one
_TIME_AFTER = r"年月日号点元块米岁天个次分秒小时%"

_BUILDING_RE = re.compile(
    rf"""
    (?<![\d{_CN}{_QUANTITY_BEFORE}a-z])
    (?:(?P<zone>[a-z]|\d{{1,2}}|[{_CN}]{{1,3}}|[东西南北中])(?P<zone_kind>区|期))?
    (?P<building>\d{{1,3}}|[a-z]\d{{0,2}}|[{_CN}]{{1,3}})\s*
    (?P<marker>号楼|栋|幢|座|\#\s*楼?|号(?=\s*\d{{1,2}}\s*单元))
    (?:\s*的?\s*(?:(?P<unit>\d{{1,2}}|[{_CN}]{{1,3}})\s*单元|(?P<dash_unit>\d{{1,2}})\s*-\s*(?=\d{{3,4}}(?!\d))))?
    (?:\s*的?\s*(?P<floor>\d{{1,3}}|[{_CN}]{{1,3}})\s*(?:楼|层)(?![道下上梯顶房主]))?
    (?:\s*-?\s*(?P<room>[1-9]\d{{2,3}})(?!\d|\s*[{_TIME_AFTER}])(?:室|号房|房)?)?
    """,
    re.VERBOSE,
)
_UNIT_RE = re.compile(rf"(?<![\d{_CN}{_QUANTITY_BEFORE}])(?P<unit>\d{{1,2}}|[{_CN}]{{1,3}})\s*单元")
_FLOOR_RE = re.compile(
    rf"(?<![\d{_CN}{_QUANTITY_BEFORE}号#栋幢座a-z顶])(?P<below>负|地下)?"
    rf"(?P<floor>\d{{1,3}}|[{_CN}]{{1,3}})\s*(?:楼|层)(?![道下上梯顶房主])"
)
_ROOM_RE = re.compile(
    r"(?<![\d.:/-])(?P<room>[1-9]\d{2,3})(?:\s*(?:室|号房|房间|房)"
    r"|(?=\s*(?:的住户|的业主|住户|业主|家|门口)))"
)
_DASH3_RE = re.compile(r"(?<![\d-])(?P<b>\d{1,3})\s*-\s*(?P<u>\d{1,2})\s*-\s*(?P<r>\d{3,4})(?![\d-])")
_DASH2_RE = re.compile(rf"(?<![\d-])(?P<b>\d{{1,3}})-(?P<r>[1-9]\d{{2,3}})(?![\d-]|\s*[{_TIME_AFTER}])")
_EN_BUILDING_RE = re.compile(r"\b(?:building|bldg|block|blk|tower)\s*(?:no\.?\s*)?#?\s*(?P<b>\d{1,3})\b")
_EN_UNIT_RE = re.compile(r"\bunit\s*#?\s*(?P<u>\d{1,4})\b")
_EN_ROOM_RE = re.compile(r"\b(?:room|rm|flat|apt|apartment)\s*#?\s*(?P<r>\d{2,4})\b")
_EN_FLOOR_RE = re.compile(r"\b(?P<f>\d{1,3})(?:st|nd|rd|th)\s*floor\b|\bfloor\s*(?P<g>\d{1,3})\b")


def _arabic(numeral: str | None) -> str | None:
    """"十五" → "15", "五零二" → "502", "3" → "3"; None when it is not a number we read."""
    if not numeral:
        return None
    if numeral.isascii():
        return str(int(numeral)) if numeral.isdigit() else None
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        value = (_CN_DIGITS.get(tens, -100) if tens else 1) * 10 + (_CN_DIGITS.get(ones, -100) if ones else 0)
        return str(value) if value > 0 else None
    digits = [_CN_DIGITS.get(char) for char in numeral]
    if any(digit is None for digit in digits):
        return None
    return "".join(str(digit) for digit in digits).lstrip("0") or None


def _read_location(text: str) -> Location:
    """Read a location from normalised text (see the module docstring for the forms)."""
    building = unit = floor = room = None
    dash = _DASH3_RE.search(text)
    if dash:
        building, unit, room = str(int(dash["b"])), str(int(dash["u"])), dash["r"]
    else:
        for match in _BUILDING_RE.finditer(text):
            numeral = match["building"]
            after = text[match.end("marker") : match.end("marker") + 1]
            if numeral == "两" or (numeral == "一" and after == "楼"):
                continue  # "两栋楼" and "一栋楼" count buildings
            number = numeral.upper() if numeral[0].isalpha() and numeral.isascii() else _arabic(numeral)
            if number is None:
                continue
            if match["zone"]:
                zone = match["zone"]
                zone = zone.upper() if zone.isascii() and zone.isalpha() else (_arabic(zone) or zone)
                number = f"{zone}{match['zone_kind']}{number}"
            building = number
            unit = _arabic(match["unit"] or match["dash_unit"])
            floor = _arabic(match["floor"])
            room = match["room"]
            break
    if building is None:
        english = _EN_BUILDING_RE.search(text)
        if english:
            building = str(int(english["b"]))
    if unit is None:
        found = _UNIT_RE.search(text)
        if found:
            unit = _arabic(found["unit"])
        else:
            english_unit = _EN_UNIT_RE.search(text)
            if english_unit and len(english_unit["u"]) <= 2:
                unit = str(int(english_unit["u"]))
            elif english_unit and room is None:
                room = english_unit["u"]
    if floor is None:
        found_floor = _FLOOR_RE.search(text)
        if found_floor:
            floor = _arabic(found_floor["floor"])
            if floor and found_floor["below"]:
                floor = f"-{floor}"
        else:
            english_floor = _EN_FLOOR_RE.search(text)
            if english_floor:
                floor = str(int(english_floor["f"] or english_floor["g"]))
    if room is None:
        pair = _DASH2_RE.search(text)
        if pair and building in (None, str(int(pair["b"]))):
            building, room = str(int(pair["b"])), pair["r"]
        else:
            found_room = _ROOM_RE.search(text) or _EN_ROOM_RE.search(text)
            if found_room:
                room = found_room.group(found_room.lastindex or 0)
    return Location(building=building, unit=unit, floor=floor, room=room)


# ---------------------------------------------------------------- scanning

_ROLE_ORDER = (
    "emergency", "high", "problem", "ask", "question", "hazard", "vulnerable", "lift",
    "resolved", "false_alarm", "notice", "future", "advert", "chat", "praise", "thanks",
    "acknowledgements", "contrast", "negation", "shadow",
)  # fmt: skip
_SIGNAL_ROLES = {"problems": "problem", "asks": "ask", "questions": "question", "contrast": "contrast", "negations": "negation", "shadows": "shadow"}
_URGENCY_ROLES = {"emergency": "emergency", "high": "high", "hazards": "hazard", "vulnerable": "vulnerable", "lift": "lift"}
_COUNTER_ROLES = frozenset(_NON_REQUEST_KEYS)
_NEGATABLE = frozenset({"issue", "problem", "emergency", "high", "hazard", "notice", "resolved"})
_RECURRENCE = frozenset({"problem", "emergency", "high"})  # after a fix word: it broke again
_INHERITED_ROLES = frozenset({"vulnerable", "lift"})
_BREAK_RE = re.compile(r"[\s\W]")
_PHONE_RE = re.compile(r"(?<!\d)\d(?:[- ]?\d){9,11}(?!\d)")


@dataclass(frozen=True, slots=True)
class _Entry:
    """Everything one vocabulary word means."""

    roles: frozenset[str]
    points: tuple[tuple[str, float], ...]  # (category code, score points)
    evidence: float
    askable_subject: bool


@dataclass(frozen=True, slots=True)
class _Hit:
    word: str
    start: int
    entry: _Entry
    negated: bool


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation of ``words`` shaped as a trie; longest word wins."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any], last: str) -> str:
        branches = [re.escape(char) + build(child, char) for char, child in sorted(node.items()) if char]
        if "" in node:
            # An English word must end at a word boundary: "fire" is not "firefox".
            end = "(?![a-z])" if last.isascii() and last.isalpha() else ""
            if not branches:
                return end
            return f"(?:{'|'.join(branches)}|{end})" if end else f"(?:{'|'.join(branches)})?"
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    ascii_first = {char: child for char, child in trie.items() if char.isascii() and char.isalnum()}
    other_first = {char: child for char, child in trie.items() if char not in ascii_first}
    parts = []
    if ascii_first:
        parts.append(f"(?<![a-z0-9]){build(ascii_first, '')}")
    if other_first:
        parts.append(build(other_first, ""))
    return "|".join(parts) if parts else "(?!)"


class IntakeParser:
    """Reads resident messages with one vocabulary; build once, call ``parse`` often."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary or Vocabulary.default()
        self._table = _translation_table(self.vocabulary.traditional)
        self._codes = tuple(self.vocabulary.words)
        self._entries = self._compile_entries()
        self._scanner = re.compile(_trie_pattern(self._entries))

    def _normalise_word(self, word: str) -> str:
        return unicodedata.normalize("NFKC", word).lower().translate(self._table).strip()

    def _compile_entries(self) -> dict[str, _Entry]:
        roles: dict[str, set[str]] = {}
        points: dict[str, dict[str, float]] = {}
        askable: set[str] = set()

        def add(word: str, role: str) -> str:
            key = self._normalise_word(word)
            if key:
                roles.setdefault(key, set()).add(role)
            return key

        for code, words in self.vocabulary.words.items():
            for kind, base in (("subject", _SUBJECT_POINTS), ("issue", _ISSUE_POINTS)):
                for word in words.subjects if kind == "subject" else words.issues:
                    key = add(word, kind)
                    if key:
                        per_code = points.setdefault(key, {})
                        per_code[code] = max(per_code.get(code, 0.0), base * words.weight)
                        if words.askable:
                            askable.add(key)
        for section, mapping in ((self.vocabulary.signals, _SIGNAL_ROLES), (self.vocabulary.urgency, _URGENCY_ROLES)):
            for key_name, role in mapping.items():
                for word in section.get(key_name, ()):
                    add(word, role)
        for key_name in _NON_REQUEST_KEYS:
            for word in self.vocabulary.non_request.get(key_name, ()):
                add(word, key_name)

        self._inherit(roles, points)
        entries = {}
        for word, word_roles in roles.items():
            evidence = 0.0
            if "issue" in word_roles:
                evidence = _ISSUE_EVIDENCE
            if "problem" in word_roles:
                evidence = max(evidence, _PROBLEM_EVIDENCE)
            if "high" in word_roles:
                evidence = max(evidence, _HIGH_EVIDENCE)
            if "emergency" in word_roles:
                evidence = max(evidence, _EMERGENCY_EVIDENCE)
            if "hazard" in word_roles:
                evidence = max(evidence, _HAZARD_EVIDENCE)
            if "shadow" in word_roles:
                word_roles, evidence = {"shadow"}, 0.0
            entries[word] = _Entry(
                roles=frozenset(word_roles),
                points=tuple(points.get(word, {}).items()) if "shadow" not in word_roles else (),
                evidence=evidence,
                askable_subject=word in askable and "shadow" not in word_roles,
            )
        return entries

    @staticmethod
    def _inherit(roles: dict[str, set[str]], points: dict[str, dict[str, float]]) -> None:
        """Give a compound the category and the person it contains.

        The scan keeps only the longest word, so "着火了" would hide the safety of
        "着火" and "独居老人" the vulnerable "老人". A word without category points of
        its own takes the best points of the listed words inside it.
        """
        shorter = sorted(roles, key=len)
        has_own_points = set(points)
        for word, word_roles in roles.items():
            if "shadow" in word_roles or len(word) < 2:
                continue
            for part in shorter:
                if len(part) >= len(word):
                    break
                if part not in word or "shadow" in roles[part]:
                    continue
                word_roles |= roles[part] & _INHERITED_ROLES
                if word not in has_own_points:
                    for code, value in points.get(part, {}).items():
                        per_code = points.setdefault(word, {})
                        per_code[code] = max(per_code.get(code, 0.0), value)

    def parse_location(self, text: str) -> Location:
        """Where the message says the problem is; empty ``Location`` when it does not."""
        return _read_location(_normalise(text, self._table))

    def _scan(self, text: str) -> list[_Hit]:
        hits: list[_Hit] = []
        negation_end = -1
        for match in self._scanner.finditer(text):
            word = match.group()
            entry = self._entries.get(word)
            if entry is None or "shadow" in entry.roles:
                negation_end = -1
                continue
            start = match.start()
            negated = (
                negation_end >= 0
                and start - negation_end <= _NEGATION_REACH
                and not _BREAK_RE.search(text, negation_end, start)
                and bool(entry.roles & _NEGATABLE)
            )
            hits.append(_Hit(word, start, entry, negated))
            negation_end = match.end() if "negation" in entry.roles else -1
        return hits

    def parse(self, text: str) -> Intake:
        """Decide whether ``text`` is a request and read its category, urgency and place."""
        normalised = _normalise(text, self._table) if isinstance(text, str) else ""
        if not normalised.strip():
            return Intake(False, OTHER, Urgency.NORMAL, Location(), 1.0, ("empty",))
        hits = self._scan(normalised)
        location = _read_location(normalised)
        return self._decide(normalised, hits, location)

    def _decide(self, text: str, hits: list[_Hit], location: Location) -> Intake:
        has_askable = any(hit.entry.askable_subject and not hit.negated for hit in hits)
        last_contrast = max((hit.start for hit in hits if "contrast" in hit.entry.roles), default=-1)

        evidence_words: dict[str, float] = {}
        last_recurrence_start = -1
        asked = False
        for hit in hits:
            roles = hit.entry.roles
            if hit.negated:
                if roles & {"notice", "resolved"}:
                    # "没通知", "别光提醒", "还没修好": complaining about the missing thing.
                    evidence_words[hit.word] = _PROBLEM_EVIDENCE
                    last_recurrence_start = max(last_recurrence_start, hit.start)
                continue
            value = hit.entry.evidence
            if has_askable and roles & {"question", "ask"}:
                value = max(value, _ASKABLE_EVIDENCE)
            if "ask" in roles:
                asked = True
            if value > 0:
                evidence_words[hit.word] = max(evidence_words.get(hit.word, 0.0), value)
            if roles & _RECURRENCE:
                last_recurrence_start = max(last_recurrence_start, hit.start)
        evidence = sum(evidence_words.values())

        counters: dict[str, str] = {}
        future_seen = ""
        for hit in hits:
            if hit.negated or hit.start < last_contrast:
                continue
            for role in hit.entry.roles & _COUNTER_ROLES:
                if role == "resolved" and hit.start < last_recurrence_start:
                    continue  # "修好没两天又坏了": the problem came back
                if role == "future":
                    future_seen = future_seen or hit.word
                else:
                    counters.setdefault(role, hit.word)
        if _PHONE_RE.search(text):
            counters.setdefault("phone", "phone number")
        counter = sum(_COUNTER_WEIGHTS[role] for role in counters)
        outage = any("high" in hit.entry.roles and not hit.negated for hit in hits)
        if future_seen:
            counter += _FUTURE_OUTAGE_WEIGHT if outage else _FUTURE_WEIGHT
            counters["future"] = future_seen

        net = evidence + (_ASK_BONUS if asked else 0.0) - counter
        is_request = evidence >= _MIN_EVIDENCE and net >= _MIN_NET
        if evidence == 0:
            confidence = 0.95
        else:
            likelihood = 1.0 / (1.0 + math.exp(-(net - 0.5) * 1.5))
            confidence = likelihood if is_request else 1.0 - likelihood
        confidence = round(min(max(confidence, 0.0), 1.0), 3)

        if not is_request:
            reasons = [f"{word}→{role}" for role, word in counters.items()]
            reasons += [f"{word}→evidence" for word in evidence_words]
            if not reasons:
                reasons = ["no problem words"]
            return Intake(False, OTHER, Urgency.NORMAL, location, confidence, tuple(reasons[:_MAX_REASONS]))

        category = self._category(hits)
        urgency, urgency_reasons = self._urgency(hits, location)
        reasons = []
        for hit in hits:
            if hit.negated:
                reasons.append(f"{hit.word}→negated")
                continue
            if any(code == category for code, _ in hit.entry.points):
                reasons.append(f"{hit.word}→{category}")
            elif hit.word in evidence_words and not hit.entry.roles & {"emergency", "high"}:
                reasons.append(f"{hit.word}→problem")
            elif "ask" in hit.entry.roles:
                reasons.append(f"{hit.word}→ask")
        reasons += urgency_reasons
        reasons += [f"{word}→{role}" for role, word in counters.items()]
        return Intake(True, category, urgency, location, confidence, tuple(dict.fromkeys(reasons))[:_MAX_REASONS])

    def _category(self, hits: list[_Hit]) -> str:
        scores: dict[str, float] = {}
        first_seen: dict[str, int] = {}
        asked_about = False
        for hit in hits:
            if hit.negated:
                continue
            asked_about = asked_about or "question" in hit.entry.roles
            for code, points in hit.entry.points:
                scores[code] = scores.get(code, 0.0) + points
                first_seen.setdefault(code, hit.start)
        if not scores:
            return OTHER
        if asked_about:
            # "居住证明需要房东签字吗" asks about paperwork, not about the landlord.
            for code in scores:
                if self.vocabulary.words[code].askable:
                    scores[code] += _SUBJECT_POINTS
        return max(scores, key=lambda code: (scores[code], -first_seen[code]))

    def _urgency(self, hits: list[_Hit], location: Location) -> tuple[Urgency, list[str]]:
        live = [hit for hit in hits if not hit.negated]
        emergency = [hit.word for hit in live if "emergency" in hit.entry.roles]
        if emergency:
            return Urgency.EMERGENCY, [f"{emergency[0]}→emergency"]
        high = [hit.word for hit in live if "high" in hit.entry.roles]
        if high:
            return Urgency.HIGH, [f"{high[0]}→high"]
        hazard = [hit.word for hit in live if "hazard" in hit.entry.roles]
        vulnerable = [hit.word for hit in live if "vulnerable" in hit.entry.roles]
        if hazard and vulnerable:
            return Urgency.HIGH, [f"{hazard[0]}+{vulnerable[0]}→high"]
        lift = [hit.word for hit in live if "lift" in hit.entry.roles]
        if lift and location.floor and location.floor.isdigit():
            if int(location.floor) >= self.vocabulary.high_rise_floor:
                return Urgency.HIGH, [f"{lift[0]}+{location.floor}楼→high"]
        return Urgency.NORMAL, []
