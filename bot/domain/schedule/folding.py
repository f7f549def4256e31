"""Folding typed text so full-width digits, `：` and dashes read like their ASCII forms.

Errors quote the text as typed, so folding keeps, for every folded position, where it
came from.
"""

from __future__ import annotations

import unicodedata

_EXTRA_FOLDS = {"∶": ":", "–": "-", "—": "-", "―": "-", "〜": "~"}


def fold_with_origin(text: str) -> tuple[str, list[int]]:
    """Fold char by char so every folded position maps back to the text as typed."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        replacement = _EXTRA_FOLDS.get(char) or unicodedata.normalize("NFKC", char)
        folded.append(replacement)
        origin.extend([index] * len(replacement))
    origin.append(len(text))
    return "".join(folded), origin


def fold(text: str) -> str:
    """`text` with full-width digits, `：` and dashes as their ASCII forms."""
    return fold_with_origin(text)[0]
