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
    2. Scanned once against a trie of every vocabulary word (the longest word at a
       position wins; the cost does not grow with the number of words) and one
       precompiled regex of the vocabulary's open-ended patterns.
    3. Scored: evidence (problem words, complaint words, urgency words, a question
       about an askable subject, "天天" next to a subject) against non-request
       signals (fixed already, thanks, praise, notices, future outages, ads, phone
       numbers, chit-chat). A request needs evidence of at least 2 and a margin
       of at least 1 over the signals. A negation right before a word cancels it
       ("没有着火"); a fix word is ignored when a problem follows it ("修好没两天
       又坏了"); politeness before "但是/不过" is ignored.
    4. Categorised by the points of subjects (capped) and issues, ties going to
       the category named first; given an urgency (emergency words; a lift with
       someone inside; outage and hazard words; a hazard next to a vulnerable
       person; a lift down at or above ``high_rise_floor``).

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
_EMPHASIS_EVIDENCE = 2.0  # "天天" next to a subject: a nuisance that keeps coming back
_ASK_BONUS = 1.0
_SUBJECT_CAP = 1.5  # naming many places does not outweigh one word of what is wrong
_SUBJECT_POINTS = 1.0
_ISSUE_POINTS = 2.0
# Non-request signals, per kind: a second word of a kind adds half again, more add nothing.
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
_MAX_REASONS = 10
_PATTERN_CACHE_SIZE = 4096

_SIGNAL_KEYS = (
    "problems",
    "problem_patterns",
    "emphasis",
    "asks",
    "questions",
    "contrast",
    "negations",
    "shadows",
)
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
_URGENCY_KEYS = ("emergency", "high", "hazards", "vulnerable", "lift", "trapped")
_CATEGORY_KEYS = ("label_zh", "label_en", "subjects", "issues", "patterns", "weight", "askable")
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
    patterns: tuple[str, ...] = ()
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
        """Load the vocabulary packaged in ``bot/domain/data/intake_vocabulary.toml``."""
        return _default_vocabulary()

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Vocabulary:
        """Build from a parsed TOML table shaped like the data file."""
        return _EMPTY_VOCABULARY.merged_with(table)

    def merged_with(self, overrides: Mapping[str, Any]) -> Vocabulary:
        """Return this vocabulary extended by ``overrides`` (same structure as the data file).

        Word lists are extended, never replaced; a category code not seen yet is
        added after the existing ones and must bring both labels. Raises
        ``VocabularyError`` naming the offending key.
        """
        if not isinstance(overrides, Mapping):
            raise VocabularyError("intake vocabulary: expected a table of overrides")
        known = {"categories", "signals", "non_request", "urgency", "traditional"}
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
            urgency=_merge_lists(
                self.urgency, {"urgency": urgency_lists}, "urgency", _URGENCY_KEYS
            ),
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
        words = _word_list(value, f"{section}.{key}")
        if key.endswith("_patterns"):
            _check_patterns(words, f"{section}.{key}")
        merged[key] = _extend(merged[key], words)
    return MappingProxyType(merged)


def _check_patterns(patterns: Sequence[str], where: str) -> None:
    for pattern in patterns:
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            raise VocabularyError(
                f"intake vocabulary: {where}: bad pattern {pattern!r}: {error}"
            ) from error
        if compiled.groups:
            raise VocabularyError(
                f"intake vocabulary: {where}: pattern {pattern!r} has a capturing group;"
                " use (?:...)"
            )
        if compiled.fullmatch(""):
            raise VocabularyError(
                f"intake vocabulary: {where}: pattern {pattern!r} matches nothing at all"
            )


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
            expected = list(_CATEGORY_KEYS)
            raise VocabularyError(
                f"intake vocabulary: unknown key {where}.{key} (expected one of {expected})"
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
    patterns = _word_list(body.get("patterns", []), f"{where}.patterns")
    _check_patterns(patterns, f"{where}.patterns")
    return CategoryWords(
        category=Category(code, labels["label_zh"], labels["label_en"]),
        subjects=_extend(
            old.subjects if old else (), _word_list(body.get("subjects", []), f"{where}.subjects")
        ),
        issues=_extend(
            old.issues if old else (), _word_list(body.get("issues", []), f"{where}.issues")
        ),
        patterns=_extend(old.patterns if old else (), patterns),
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
_INVISIBLE = [
    0x00AD,
    0x180E,
    0xFE0E,
    0xFE0F,
    0xFEFF,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2070),
]
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

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN = "零〇一二两三四五六七八九十"
_QUANTITY_BEFORE = (
    "这那哪几每各整好"  # "这两栋楼", "每栋楼", "好几栋" count buildings, not name one
)
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
_DASH3_RE = re.compile(
    r"(?<![\d-])(?P<b>\d{1,3})\s*-\s*(?P<u>\d{1,2})\s*-\s*(?P<r>\d{3,4})(?![\d-])"
)
_DASH2_RE = re.compile(
    rf"(?<![\d-])(?P<b>\d{{1,3}})-(?P<r>[1-9]\d{{2,3}})(?![\d-]|\s*[{_TIME_AFTER}])"
)
_EN_BUILDING_RE = re.compile(
    r"\b(?:building|bldg|block|blk|tower)\s*(?:no\.?\s*)?#?\s*(?P<b>\d{1,3})\b"
)
_EN_UNIT_RE = re.compile(r"\bunit\s*#?\s*(?P<u>\d{1,4})\b")
_EN_ROOM_RE = re.compile(r"\b(?:room|rm|flat|apt|apartment)\s*#?\s*(?P<r>\d{2,4})\b")
_EN_FLOOR_RE = re.compile(r"\b(?P<f>\d{1,3})(?:st|nd|rd|th)\s*floor\b|\bfloor\s*(?P<g>\d{1,3})\b")


def _arabic(numeral: str | None) -> str | None:
    """Convert a numeral to Arabic: 十五 → 15, 五零二 → 502; None when we cannot read it."""
    if not numeral:
        return None
    if numeral.isascii():
        return str(int(numeral)) if numeral.isdigit() else None
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        value = (_CN_DIGITS.get(tens, -100) if tens else 1) * 10 + (
            _CN_DIGITS.get(ones, -100) if ones else 0
        )
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
            number = (
                numeral.upper() if numeral[0].isalpha() and numeral.isascii() else _arabic(numeral)
            )
            if number is None:
                continue
            if match["zone"]:
                zone = match["zone"]
                zone = (
                    zone.upper() if zone.isascii() and zone.isalpha() else (_arabic(zone) or zone)
                )
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

_SIGNAL_ROLES = {
    "problems": "problem",
    "emphasis": "emphasis",
    "asks": "ask",
    "questions": "question",
    "contrast": "contrast",
    "negations": "negation",
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
_COUNTER_ROLES = frozenset(_NON_REQUEST_KEYS)
_NEGATABLE = frozenset(
    {"issue", "problem", "emergency", "high", "hazard", "notice", "resolved", "trapped"}
)
_RECURRENCE = frozenset({"problem", "emergency", "high"})  # after a fix word: it broke again
_INHERITED_ROLES = frozenset({"vulnerable", "lift"})
_INHERITED_URGENCY = frozenset({"emergency", "high", "hazard"})  # only into evidence words
_EVIDENCE_ROLES = frozenset({"issue", "problem", "emergency", "high"})
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_PHONE_RE = re.compile(r"(?<!\d)\d(?:[- ]?\d){9,11}(?!\d)")
_LOCATION_HINT_RE = re.compile(
    r"[\d栋幢座单元层室#]|楼(?![下上道梯顶])|building|block|floor|room|flat|apt|unit"
)
_END = ""  # trie key under which a node keeps the entry of the word ending there


@dataclass(frozen=True, slots=True)
class _Entry:
    """Everything one vocabulary word means."""

    roles: frozenset[str]
    points: tuple[tuple[str, float], ...]  # (category code, score points)
    evidence: float
    askable_subject: bool = False
    ends_in_letter: bool = False  # an English word must end at a word boundary


@dataclass(frozen=True, slots=True)
class _Hit:
    word: str
    start: int
    entry: _Entry
    negated: bool = False


def _build_trie(entries: Mapping[str, _Entry]) -> dict[str, Any]:
    trie: dict[str, Any] = {}
    for word, entry in entries.items():
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[_END] = entry
    return trie


def _longest_word(trie: Mapping[str, Any], text: str, start: int) -> tuple[int, _Entry | None]:
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
        entry: _Entry | None = node.get(_END)
        if entry is not None:
            after = position + 1
            if not (entry.ends_in_letter and after < len(text) and text[after] in _ASCII_WORD):
                best_end, best = after, entry
    return best_end, best


class IntakeParser:
    """Reads resident messages with one vocabulary; build once, call ``parse`` often."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary or Vocabulary.default()
        self._table = _translation_table(self.vocabulary.traditional)
        self._entries = self._compile_entries()
        self._trie = _build_trie(self._entries)
        self._urgent_trie = _build_trie(
            {
                word: entry
                for word, entry in self._entries.items()
                if entry.roles & {"emergency", "high"}
            }
        )
        patterns, self._pattern_entries = self._compile_patterns()
        # One zero-width search finds every position where some pattern matches.
        self._pattern_finder = (
            re.compile("(?=" + "|".join(f"({pattern})" for pattern in patterns) + ")")
            if patterns
            else None
        )
        self._pattern_hits: dict[tuple[int, str], _Entry] = {}
        first_chars = "".join(sorted(char for char in self._trie if char != _END))
        self._word_starts = re.compile(f"[{re.escape(first_chars)}]" if first_chars else "(?!)")

    # ------------------------------------------------------------ building

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
            for kind, listed, value in (
                ("subject", words.subjects, _SUBJECT_POINTS),
                ("issue", words.issues, _ISSUE_POINTS * words.weight),
            ):
                for word in listed:
                    key = add(word, kind)
                    if key:
                        per_code = points.setdefault(key, {})
                        per_code[code] = max(per_code.get(code, 0.0), value)
                        if words.askable:
                            askable.add(key)
        for section, mapping in (
            (self.vocabulary.signals, _SIGNAL_ROLES),
            (self.vocabulary.urgency, _URGENCY_ROLES),
            (self.vocabulary.non_request, {key: key for key in _NON_REQUEST_KEYS}),
        ):
            for key_name, role in mapping.items():
                for word in section.get(key_name, ()):
                    add(word, role)
        _inherit(roles, points)

        entries = {}
        for word, word_roles in roles.items():
            if "shadow" in word_roles:
                entries[word] = _Entry(frozenset({"shadow"}), (), 0.0)
                continue
            evidence = max(
                _ISSUE_EVIDENCE if "issue" in word_roles else 0.0,
                _PROBLEM_EVIDENCE if "problem" in word_roles else 0.0,
                _HIGH_EVIDENCE if "high" in word_roles else 0.0,
                _EMERGENCY_EVIDENCE if "emergency" in word_roles else 0.0,
                _HAZARD_EVIDENCE if "hazard" in word_roles else 0.0,
            )
            entries[word] = _Entry(
                roles=frozenset(word_roles),
                points=tuple(points.get(word, {}).items()),
                evidence=evidence,
                askable_subject=word in askable,
                ends_in_letter=word[-1] in _ASCII_WORD and word[-1].isalpha(),
            )
        return entries

    def _compile_patterns(self) -> tuple[list[str], list[_Entry]]:
        patterns = list(self.vocabulary.signals.get("problem_patterns", ()))
        entries = [_Entry(frozenset({"problem"}), (), _PROBLEM_EVIDENCE)] * len(patterns)
        for code, words in self.vocabulary.words.items():
            for pattern in words.patterns:
                patterns.append(pattern)
                points = ((code, _ISSUE_POINTS * words.weight),)
                entries.append(_Entry(frozenset({"issue"}), points, _ISSUE_EVIDENCE))
        return patterns, entries

    # ------------------------------------------------------------ reading

    def parse_location(self, text: str) -> Location:
        """Where the message says the problem is; empty ``Location`` when it does not."""
        return _read_location(_normalise(text, self._table))

    def parse(self, text: str) -> Intake:
        """Decide whether ``text`` is a request and read its category, urgency and place."""
        normalised = _normalise(text, self._table) if isinstance(text, str) else ""
        if not normalised.strip():
            return Intake(False, OTHER, Urgency.NORMAL, Location(), 1.0, ("empty",))
        hits = self._scan(normalised)
        location = (
            _read_location(normalised) if _LOCATION_HINT_RE.search(normalised) else Location()
        )
        return self._decide(normalised, hits, location)

    def _scan(self, text: str) -> list[_Hit]:
        """Every listed word and pattern in ``text``, longest first, left to right."""
        patterns: dict[int, tuple[int, int]] = {}
        if self._pattern_finder is not None:
            for found in self._pattern_finder.finditer(text):
                index = found.lastindex or 0
                patterns[found.start()] = (found.start() + len(found.group(index)), index)
        hits: list[_Hit] = []
        negation_end = -1
        position = 0
        trie = self._trie
        # Visit only the characters that can start a word, and where patterns start.
        starts = [found.start() for found in self._word_starts.finditer(text)]
        if patterns:
            starts = sorted(set(starts).union(patterns))
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
            # A negation reaches only the word right after it: "不捡狗屎" still complains.
            negated = negation_end == start and bool(entry.roles & _NEGATABLE)
            hits.append(_Hit(text[start:end], start, entry, negated))
            negation_end = end if "negation" in entry.roles else -1
        hits.extend(self._straddling_urgent_words(text, hits))
        return hits

    def _straddling_urgent_words(self, text: str, hits: list[_Hit]) -> list[_Hit]:
        """Urgency words the longest-word scan cut in two: "往外冒" + "火" hides "冒火".

        Words wholly inside a longer word are left alone: "不停水了" means it is back.
        """
        found = []
        urgent = self._urgent_trie
        for hit in hits:
            hit_end = hit.start + len(hit.word)
            for start in range(hit.start + 1, hit_end):
                if text[start] not in urgent:
                    continue
                end, entry = _longest_word(urgent, text, start)
                if entry is not None and end > hit_end:
                    found.append(_Hit(text[start:end], start, entry))
        return found

    def _pattern_hit(self, index: int, text: str, start: int, end: int) -> _Entry:
        """Merge a pattern's entry with what the listed words inside it say ("很危险": hazard)."""
        key = (index, text[start:end])
        cached = self._pattern_hits.get(key)
        if cached is not None:
            return cached
        entry = self._pattern_entries[index - 1]
        roles = set(entry.roles)
        points = dict(entry.points)
        for inner_start in range(start, end):
            inner_end, inner = _longest_word(self._trie, text, inner_start)
            if inner is None or inner_end > end or "shadow" in inner.roles:
                continue
            roles |= inner.roles & (_INHERITED_ROLES | _INHERITED_URGENCY)
            for code, value in inner.points:
                points[code] = max(points.get(code, 0.0), value)
        merged = _Entry(frozenset(roles), tuple(points.items()), entry.evidence)
        if len(self._pattern_hits) < _PATTERN_CACHE_SIZE:
            self._pattern_hits[key] = merged
        return merged

    # ------------------------------------------------------------ deciding

    def _decide(self, text: str, hits: list[_Hit], location: Location) -> Intake:
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
                    evidence_words[hit.word] = _PROBLEM_EVIDENCE
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
        if trapped and any("lift" in hit.entry.roles for hit in hits):
            # "电梯停了 我妈还在里面": someone is shut in a lift.
            evidence_words[trapped[0].word] = _EMERGENCY_EVIDENCE
        evidence = sum(evidence_words.values())

        counters: dict[str, list[str]] = {}
        future = ""
        for hit in hits:
            if hit.negated or hit.start < last_contrast:
                continue
            for role in hit.entry.roles & _COUNTER_ROLES:
                if role == "resolved" and hit.start < last_recurrence:
                    continue  # "修好没两天又坏了": it broke again
                if role == "future":
                    future = future or hit.word
                elif hit.word not in counters.setdefault(role, []):
                    counters[role].append(hit.word)
        if _PHONE_RE.search(text):
            counters["phone"] = ["phone number"]
        # A second word of one kind ("提醒 … 请大家自觉") adds half again; more add nothing.
        counter = sum(
            _COUNTER_WEIGHTS[role] * (1.5 if len(words) > 1 else 1.0)
            for role, words in counters.items()
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
        urgency, urgency_reasons = self._urgency(hits, location)
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

    def _category(self, hits: list[_Hit]) -> str:
        subjects: dict[str, float] = {}
        issues: dict[str, float] = {}
        first_seen: dict[str, int] = {}
        asked_about = False
        for hit in hits:
            if hit.negated:
                continue
            asked_about = asked_about or "question" in hit.entry.roles
            for code, points in hit.entry.points:
                tally = subjects if points <= _SUBJECT_POINTS else issues
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
                    scores[code] += _SUBJECT_POINTS
        # Ties go to the category named first: residents lead with what is broken.
        return max(scores, key=lambda code: (scores[code], -first_seen[code]))

    def _urgency(self, hits: list[_Hit], location: Location) -> tuple[Urgency, list[str]]:
        first: dict[str, str] = {}
        for hit in hits:
            if not hit.negated:
                for role in hit.entry.roles:
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


def _likelihood(net: float) -> float:
    """How sure a request it is, from the evidence margin (0.5 at the threshold's middle)."""
    return 1.0 / (1.0 + math.exp(-(net - 0.5) * 1.5))


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
