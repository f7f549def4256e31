"""What happened to a ticket, as the services report it; the Notifier decides who is told."""

from __future__ import annotations

from enum import StrEnum


class TicketEvent(StrEnum):
    """What happened to a ticket; the Notifier maps each to the people who are told."""

    CLAIMED = "claimed"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    TRANSFERRED = "transferred"
    ESCALATED = "escalated"
    REJECTED = "rejected"
    NOTED = "noted"
    CONFIRMED = "confirmed"
    CONFIRMED_BY_TIMEOUT = "confirmed_by_timeout"
    SCORED = "scored"
    ANSWERED = "answered"
    REMIND_CLAIM = "remind_claim"
    REMIND_RESOLVE = "remind_resolve"
    OVERDUE_TOP_LEVEL = "overdue_top_level"
