"""Find every position where one of the vocabulary's patterns matches, fast.

One regex of all patterns tried at every position costs (positions × patterns):
most patterns fail on their first character. So each pattern's possible first
characters are worked out once from its parsed form, and at a position only the
patterns that can start with that character are tried, in vocabulary order. A
pattern whose first character cannot be bounded (it starts with ``.`` or a wide
class) is tried everywhere, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

try:  # the parser behind ``re``; private, hence the fallback below
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python: every pattern is tried everywhere
    sre_constants = sre_parser = None

_WIDEST_CLASS = 512  # a class wider than this ([\u4e00-\u9fff]) bounds nothing useful


def _first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with; None when unbounded."""
    if sre_parser is None:
        return None
    try:
        parsed = sre_parser.parse(pattern)
    except Exception:  # noqa: BLE001 - anything odd: try the pattern everywhere
        return None
    chars, nullable = _first(list(parsed))
    return None if chars is None or nullable else frozenset(chars)


def _first(items: Sequence[tuple[Any, Any]]) -> tuple[set[str] | None, bool]:
    """First characters of a sequence of parsed items, and whether it can match empty."""
    found: set[str] = set()
    for op, value in items:
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.AT):
            continue  # zero width: look-arounds and anchors consume nothing
        if op is sre_constants.LITERAL:
            return found | {chr(value)}, False
        if op is sre_constants.IN:
            chars = _class_chars(value)
            return (None if chars is None else found | chars), False
        if op is sre_constants.SUBPATTERN:
            inner, nullable = _first(list(value[-1]))
        elif op is sre_constants.BRANCH:
            inner, nullable = set(), False
            for alternative in value[1]:
                chars, empty = _first(list(alternative))
                if chars is None:
                    return None, False
                inner |= chars
                nullable = nullable or empty
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            minimum, _, body = value
            inner, nullable = _first(list(body))
            nullable = nullable or minimum == 0
        else:
            return None, False
        if inner is None:
            return None, False
        found |= inner
        if not nullable:
            return found, False
    return found, True


def _class_chars(members: Sequence[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, value in members:
        if op is sre_constants.LITERAL:
            chars.add(chr(value))
        elif op is sre_constants.RANGE:
            first, last = value
            if last - first > _WIDEST_CLASS:
                return None
            chars.update(chr(code) for code in range(first, last + 1))
        elif op is sre_constants.CATEGORY and value is sre_constants.CATEGORY_DIGIT:
            chars.update("0123456789")
        else:
            return None
    return chars


def _alternation(patterns: Sequence[tuple[int, str]]) -> tuple[re.Pattern[str], list[int]]:
    """One regex trying ``patterns`` in order, and the vocabulary index of each group."""
    regex = re.compile("|".join(f"({pattern})" for _, pattern in patterns))
    return regex, [index for index, _ in patterns]


class PatternFinder:
    """Where each of a list of patterns matches; ``find`` answers {start: (end, index)}.

    ``index`` is the pattern's 1-based place in the list, as a regex group number
    would be; where several patterns match at one start the first listed wins.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        by_char: dict[str, list[tuple[int, str]]] = {}
        everywhere: list[tuple[int, str]] = []
        for index, pattern in enumerate(patterns, start=1):
            chars = _first_chars(pattern)
            if chars is None:
                everywhere.append((index, pattern))
            else:
                for char in chars:
                    by_char.setdefault(char, []).append((index, pattern))
        self._by_char = {char: _alternation(listed) for char, listed in by_char.items()}
        self._everywhere = (
            re.compile("(?=" + "|".join(f"({pattern})" for _, pattern in everywhere) + ")")
            if everywhere
            else None
        )
        self._everywhere_index = [index for index, _ in everywhere]
        self._starts = (
            re.compile("[" + re.escape("".join(sorted(by_char))) + "]") if by_char else None
        )

    def find(self, text: str) -> dict[int, tuple[int, int]]:
        """Every start in `text` where a pattern matches: start → (end, index of the pattern)."""
        found: dict[int, tuple[int, int]] = {}
        if self._everywhere is not None:
            for match in self._everywhere.finditer(text):
                group = match.lastindex or 0
                found[match.start()] = (
                    match.start() + len(match.group(group)),
                    self._everywhere_index[group - 1],
                )
        if self._starts is None:
            return found
        by_char = self._by_char
        for start_match in self._starts.finditer(text):
            start = start_match.start()
            regex, indexes = by_char[start_match.group()]
            at_start = regex.match(text, start)
            if at_start is None:
                continue
            group = at_start.lastindex or 0
            index = indexes[group - 1]
            earlier = found.get(start)
            if earlier is None or index < earlier[1]:
                found[start] = (at_start.end(group), index)
        return found
