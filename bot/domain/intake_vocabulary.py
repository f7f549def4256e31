"""The intake parser's vocabulary: the packaged word lists and a deployment's additions.

``Vocabulary.default()`` reads ``bot/domain/data/intake_vocabulary.toml``;
``merged_with`` extends it with a table of the same structure (a deployment's
``[intake.vocabulary]``), checking every key and pattern so that a typo fails at
start-up instead of silently matching nothing. Pure standard library.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

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

SIGNAL_KEYS = (
    "problems",
    "problem_patterns",
    "emphasis",
    "asks",
    "questions",
    "contrast",
    "negations",
    "comparisons",
    "shadows",
)
NON_REQUEST_KINDS = (
    "resolved",
    "false_alarm",
    "drill",
    "hearsay",
    "thanks",
    "praise",
    "notice",
    "future",
    "advert",
    "chat",
    "laughter",
    "acknowledgements",
)
# Open-ended phrasing of a kind: "已于昨日修复", "大家出门要注意".
NON_REQUEST_PATTERN_KEYS = ("resolved_patterns", "notice_patterns", "chat_patterns")
URGENCY_ROLES = ("emergency", "high", "hazards", "vulnerable", "lift", "trapped")
URGENCY_PATTERN_KEYS = ("emergency_patterns", "high_patterns", "trapped_patterns")
_CATEGORY_KEYS = (
    "label_zh",
    "label_en",
    "subjects",
    "issues",
    "patterns",
    "emergency_patterns",
    "high_patterns",
    "weight",
    "askable",
)
_CATEGORY_CODE_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_SECTIONS = (
    "categories",
    "signals",
    "non_request",
    "urgency",
    "traditional",
    "dialect",
    "pattern_words",
)
# "{person}" in a pattern stands for any word of the pattern_words list "person".
_PATTERN_WORD_RE = re.compile(r"\{([a-z][a-z_]*)\}")


class VocabularyError(ValueError):
    """The vocabulary data or a deployment's override of it is malformed."""


@dataclass(frozen=True, slots=True)
class Category:
    """A ticket category: its code (stored, exported) and its labels in both languages."""

    code: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class CategoryWords:
    """The words that point at one category (see the data file for the roles)."""

    category: Category
    subjects: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    weight: float = 1.0
    askable: bool = False
    emergency_patterns: tuple[str, ...] = ()
    high_patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every word list the parser reads with; immutable, extended by ``merged_with``."""

    words: Mapping[str, CategoryWords]
    signals: Mapping[str, tuple[str, ...]]
    non_request: Mapping[str, tuple[str, ...]]
    urgency: Mapping[str, tuple[str, ...]]
    high_rise_floor: int
    traditional: Mapping[str, str]
    dialect: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    pattern_words: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def categories(self) -> Mapping[str, Category]:
        """The categories by code, read-only."""
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
        for key in overrides:
            if key not in _SECTIONS:
                raise VocabularyError(
                    f"intake vocabulary: unknown key {key!r} (expected one of {sorted(_SECTIONS)})"
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
        dialect = dict(self.dialect)
        dialect.update(_dialect_pairs(_table(overrides, "dialect", "dialect")))
        pattern_words = dict(self.pattern_words)
        for name, listed in _table(overrides, "pattern_words", "pattern_words").items():
            if not _PATTERN_WORD_RE.fullmatch(f"{{{name}}}"):
                raise VocabularyError(
                    f"intake vocabulary: pattern_words.{name}: names are lower-case ascii"
                )
            words_of_name = _word_list(listed, f"pattern_words.{name}")
            pattern_words[name] = _extend(pattern_words.get(name, ()), words_of_name)
        vocabulary = Vocabulary(
            words=MappingProxyType(words),
            signals=_merge_lists(self.signals, overrides, "signals", SIGNAL_KEYS),
            non_request=_merge_lists(
                self.non_request,
                overrides,
                "non_request",
                NON_REQUEST_KINDS + NON_REQUEST_PATTERN_KEYS,
            ),
            urgency=_merge_lists(
                self.urgency,
                {"urgency": urgency_lists},
                "urgency",
                URGENCY_ROLES + URGENCY_PATTERN_KEYS,
            ),
            high_rise_floor=high_rise_floor,
            traditional=MappingProxyType(traditional),
            dialect=MappingProxyType(dialect),
            pattern_words=MappingProxyType(pattern_words),
        )
        vocabulary.check_pattern_words()
        return vocabulary

    def check_pattern_words(self) -> None:
        """Raise ``VocabularyError`` for a "{name}" in a pattern with no pattern_words list."""
        located: list[tuple[str, tuple[str, ...]]] = [
            (f"{section}.{key}", listed)
            for section, lists in (
                ("signals", self.signals),
                ("non_request", self.non_request),
                ("urgency", self.urgency),
            )
            for key, listed in lists.items()
            if key.endswith("_patterns")
        ]
        for code, words in self.words.items():
            for key in ("patterns", "emergency_patterns", "high_patterns"):
                located.append((f"categories.{code}.{key}", getattr(words, key)))
        for where, patterns in located:
            for pattern in patterns:
                for name in _PATTERN_WORD_RE.findall(pattern):
                    if name not in self.pattern_words:
                        raise VocabularyError(
                            f"intake vocabulary: {where}: pattern {pattern!r} uses {{{name}}}"
                            " but pattern_words has no such list"
                        )

    def expand(self, pattern: str) -> str:
        """``pattern`` with each "{name}" replaced by its pattern_words, longest first."""
        return _PATTERN_WORD_RE.sub(
            lambda found: (
                "(?:"
                + "|".join(
                    map(re.escape, sorted(self.pattern_words[found[1]], key=len, reverse=True))
                )
                + ")"
            ),
            pattern,
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


def _pattern_list(value: Any, where: str) -> tuple[str, ...]:
    patterns = _word_list(value, where)
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
    return patterns


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
        read = _pattern_list if key.endswith("_patterns") else _word_list
        merged[key] = _extend(merged[key], read(value, f"{section}.{key}"))
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

    def extended(key: str) -> tuple[str, ...]:
        read = _pattern_list if key.endswith("patterns") else _word_list
        before: tuple[str, ...] = getattr(old, key) if old else ()
        return _extend(before, read(body.get(key, []), f"{where}.{key}"))

    return CategoryWords(
        category=Category(code, labels["label_zh"], labels["label_en"]),
        subjects=extended("subjects"),
        issues=extended("issues"),
        patterns=extended("patterns"),
        weight=float(weight),
        askable=askable,
        emergency_patterns=extended("emergency_patterns"),
        high_patterns=extended("high_patterns"),
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


def _dialect_pairs(body: Mapping[str, Any]) -> dict[str, str]:
    pairs = {}
    for phrase, standard in body.items():
        if not isinstance(standard, str) or not phrase.strip() or not standard.strip():
            raise VocabularyError(
                f"intake vocabulary: dialect.{phrase} must map a phrase to a non-empty string"
            )
        pairs[phrase.strip()] = standard.strip()
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
