"""Reading numbers people type: ticket numbers, user ids."""

from __future__ import annotations

# Chinese keyboards type full-width digits and ＃; nothing else counts (not "²" or "١",
# which str.isdigit accepts and int() then refuses or misreads).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＃", "0123456789#")


def whole_number(text: str, max_digits: int = 12) -> int | None:
    """A whole number as typed: "12", "#12", "＃１２" → 12; anything else → None."""
    token = text.strip().translate(_FULL_WIDTH).lstrip("#")
    if not token or len(token) > max_digits or not (token.isascii() and token.isdigit()):
        return None
    return int(token)
