"""Bring a resident's message and the vocabulary's words to one written form.

NFKC (full-width digits and letters become ASCII), lower case, traditional
characters mapped to simplified, invisible format characters (zero-width joiners,
RTL marks) dropped, control characters made spaces, dashes made "-", and dialect
phrases rewritten in Mandarin ("咗" → "了", "冇" → "没", "莫得" → "没有") so that one
word list reads Cantonese, Sichuanese and Northeastern speech too. Words and
messages go through the same steps, so a word written either way matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

MAX_CHARS = 1000  # a complaint says what it is early; the rest of a 4k paste is not read

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
_CONTROL = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_DASHES = "‐‑‒–—―−－"
# Full-width ASCII and the ideographic space, as NFKC maps them. Chinese text is full of
# full-width punctuation ("：", "，", "！"), and mapping it first lets most messages skip
# the full NFKC pass (a quarter of the cost of reading a letter).
_FULL_WIDTH_RE = re.compile("[\u3000\uff01-\uff5e]")
_FULL_WIDTH = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


class Normaliser:
    """The written form the parser reads in, for one vocabulary's character and dialect pairs."""

    def __init__(self, traditional: Mapping[str, str], dialect: Mapping[str, str]) -> None:
        table: dict[int, str | None] = {ord(t): s for t, s in traditional.items()}
        table.update({code: None for code in _INVISIBLE})
        table.update({code: " " for code in _CONTROL})
        table.update({ord(dash): "-" for dash in _DASHES})
        self._table = table
        # Phrases are rewritten before single characters, so "娃娃" is read whole
        # before "娃" alone; both after the traditional mapping.
        folded = {self._fold(phrase, table): standard for phrase, standard in dialect.items()}
        self._chars: dict[int, str | None] = {
            ord(key): standard for key, standard in folded.items() if len(key) == 1
        }
        self._phrases = {key: standard for key, standard in folded.items() if len(key) > 1}
        # Most messages hold none of the characters a table maps: a search for any of them
        # costs a tenth of a translate, which looks every character up in a dict.
        self._table_re = _any_of(chr(code) for code in table)
        self._chars_re = _any_of(chr(code) for code in self._chars)
        self._phrase_re = (
            re.compile("|".join(map(re.escape, sorted(self._phrases, key=len, reverse=True))))
            if self._phrases
            else None
        )

    @staticmethod
    def _fold(text: str, table: Mapping[int, str | None]) -> str:
        return unicodedata.normalize("NFKC", text).lower().translate(table)

    def _rewrite(self, text: str) -> str:
        if self._phrase_re is not None and self._phrase_re.search(text):
            text = self._phrase_re.sub(lambda found: self._phrases[found.group()], text)
        return text.translate(self._chars) if self._chars_re.search(text) else text

    def text(self, text: str) -> str:
        """A message as the parser reads it: at most ``MAX_CHARS`` characters of it."""
        clipped = _FULL_WIDTH_RE.sub(_full_width, text[: MAX_CHARS * 2])
        if not unicodedata.is_normalized("NFKC", clipped):
            clipped = unicodedata.normalize("NFKC", clipped)
        clipped = clipped[:MAX_CHARS].lower()
        if self._table_re.search(clipped):
            clipped = clipped.translate(self._table)
        return self._rewrite(clipped)

    def word(self, word: str) -> str:
        """A vocabulary word in the same form, so that it matches what messages become."""
        return self._rewrite(self._fold(word, self._table)).strip()


def _full_width(found: re.Match[str]) -> str:
    return _FULL_WIDTH[found.group()]


def _any_of(chars: Iterable[str]) -> re.Pattern[str]:
    """A regex finding any one of ``chars`` (never matching when there are none)."""
    listed = "".join(sorted(set(chars)))
    return re.compile(f"[{re.escape(listed)}]" if listed else "(?!)")
