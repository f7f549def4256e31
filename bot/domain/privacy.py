"""Who reads a message decides what it may show: the one place privacy rules live.

A grid group or a duty chat is public: personal numbers in any common format are masked
and a private ticket shows only its category, grid, building and number. The handlers,
privately, and the reporter see everything (a handler has to call the resident back).
"""

from __future__ import annotations

import dataclasses
import re
from enum import StrEnum
from typing import Any

from bot.domain.intake_location import Location
from bot.domain.tickets import Ticket


class Audience(StrEnum):
    """Who reads a message; public audiences never see a private ticket's words or whole numbers."""

    GRID_GROUP = "grid_group"
    DUTY_CHAT = "duty_chat"
    HANDLER = "handler"  # a head, worker, duty officer or staff member, privately
    REPORTER = "reporter"  # a resident, privately

    @property
    def is_public(self) -> bool:
        """Whether more than the people concerned read it (a grid group, a duty chat)."""
        return self in (Audience.GRID_GROUP, Audience.DUTY_CHAT)


def audience_of_chat(chat_id: int) -> Audience:
    """Without more knowledge: any group is public, a private chat is one person."""
    return Audience.GRID_GROUP if chat_id < 0 else Audience.REPORTER


def _keep_ends(digits: str, head: int, tail: int) -> str:
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[-tail:]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in "Xx")


# 18-digit resident ID (last character may be X).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Bank-card-like: 15–19 digits, unbroken or in groups of four.
_BANK_CARD = re.compile(r"(?<![\d*])(?:\d{15,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)(?![\d*])")
# Mobile: 1[3-9]x xxxx xxxx with spaces or dashes, optionally +86 / 0086 / 86 in front.
_MOBILE = re.compile(r"(?<![\d*+])((?:\+|00)?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![\d*])")
# Landline with its area code: 010-62345678, (023)61234567, 0571 8765 4321, 02361234567.
_LANDLINE = re.compile(
    r"(?<![\d*])(\(0[1-9]\d{1,2}\)|0[1-9]\d{1,2})[ -]?(\d{3,4}[ -]?\d{4})(?:-\d{1,5})?(?![\d*])"
)


def mask_personal(text: str) -> str:
    """Phone numbers, resident ID numbers and bank-card-like numbers, masked."""
    text = _ID_NUMBER.sub(lambda m: _keep_ends(m.group(0), 3, 4), str(text))
    text = _MOBILE.sub(
        lambda m: (
            f"{(m.group(1) or '').strip(' -')}{' ' if m.group(1) else ''}"
            f"{m.group(2)}****{m.group(4)}"
        ),
        text,
    )
    # After mobiles (a +86 number is long too), before landlines (a card's groups of four
    # could read as an area code and a number).
    text = _BANK_CARD.sub(lambda m: "**** " + _digits(m.group(0))[-4:], text)
    return _LANDLINE.sub(
        lambda m: f"{m.group(1)}-{'*' * (len(_digits(m.group(2))) - 4)}{_digits(m.group(2))[-4:]}",
        text,
    )


def redact_ticket(ticket: Ticket, placeholder: str) -> Ticket:
    """A private ticket as a public chat may see it: no words, no flat, only the building."""
    if not ticket.private:
        return ticket
    return dataclasses.replace(
        ticket,
        text=placeholder,
        closure_note=None,
        reasons=(),
        location=Location(building=ticket.location.building),
    )


def redact_context(value: Any, placeholder: str, _depth: int = 0) -> Any:
    """Every Ticket reachable in a template's context (lists, dicts, outcomes) redacted."""
    if isinstance(value, Ticket):
        return redact_ticket(value, placeholder)
    if _depth > 4 or isinstance(value, (str, bytes, int, float, bool, type(None))):
        return value
    if isinstance(value, list):
        return [redact_context(v, placeholder, _depth + 1) for v in value]
    if type(value) is tuple:
        return tuple(redact_context(v, placeholder, _depth + 1) for v in value)
    if isinstance(value, (set, frozenset)):
        return value
    if isinstance(value, dict):
        return {k: redact_context(v, placeholder, _depth + 1) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            current = getattr(value, f.name)
            redacted = redact_context(current, placeholder, _depth + 1)
            if redacted is not current:
                changes[f.name] = redacted
        return dataclasses.replace(value, **changes) if changes else value
    return value
