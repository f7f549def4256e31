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
from collections.abc import Mapping

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
        self._phrase_re = (
            re.compile("|".join(map(re.escape, sorted(self._phrases, key=len, reverse=True))))
            if self._phrases
            else None
        )

    @staticmethod
    def _fold(text: str, table: Mapping[int, str | None]) -> str:
        return unicodedata.normalize("NFKC", text).lower().translate(table)

    def _rewrite(self, text: str) -> str:
        if self._phrase_re is not None:
            text = self._phrase_re.sub(lambda found: self._phrases[found.group()], text)
        return text.translate(self._chars) if self._chars else text

    def text(self, text: str) -> str:
        """A message as the parser reads it: at most ``MAX_CHARS`` characters of it."""
        clipped = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS]
        return self._rewrite(clipped.lower().translate(self._table))

    def word(self, word: str) -> str:
        """A vocabulary word in the same form, so that it matches what messages become."""
        return self._rewrite(self._fold(word, self._table)).strip()
