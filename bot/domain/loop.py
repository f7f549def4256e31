"""The street's closed loop as rules: who may do what to a ticket, in which state, by when.

report → claim → resolve → verify with the resident → close, escalating grid → community →
street → district when a deadline passes or a handler asks. Pure: the services apply these
rules inside transactions whose conditional UPDATEs make the races safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.models import PersonRoles, Role, Urgency
from bot.domain.tickets import DEFAULT_DEADLINES, Closure, Level, Ticket, TicketStatus


class Action(StrEnum):
    """What a person can do to a ticket; check() says who may do which, when."""

    CLAIM = "claim"
    RESOLVE = "resolve"  # 办结: handled, now the resident verifies
    REOPEN = "reopen"
    TRANSFER = "transfer"
    ESCALATE = "escalate"
    REJECT = "reject"  # closed with a closure code that is not "fixed"
    NOTE = "note"
    CATEGORY = "category"


# From which states an action may start, and where it leads (None: the state stays).
TRANSITIONS: dict[Action, tuple[frozenset[TicketStatus], TicketStatus | None]] = {
    Action.CLAIM: (frozenset({TicketStatus.OPEN, TicketStatus.REOPENED}), TicketStatus.CLAIMED),
    Action.RESOLVE: (
        frozenset({TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.REOPENED}),
        TicketStatus.RESOLVED,
    ),
    Action.REOPEN: (frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED}), TicketStatus.REOPENED),
    Action.TRANSFER: (
        frozenset({TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.REOPENED}),
        TicketStatus.CLAIMED,
    ),
    Action.ESCALATE: (
        frozenset({TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.REOPENED}),
        TicketStatus.OPEN,
    ),
    Action.REJECT: (
        frozenset({TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.REOPENED}),
        TicketStatus.CLOSED,
    ),
    Action.NOTE: (frozenset(TicketStatus), None),
    Action.CATEGORY: (
        frozenset({TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.REOPENED}),
        None,
    ),
}

REJECT_CODES: dict[str, Closure] = {
    "unable": Closure.UNABLE,
    "not_ours": Closure.NOT_OURS,
    "duplicate": Closure.DUPLICATE,
    "referred": Closure.REFERRED,
    "invalid": Closure.INVALID,
}

LEVEL_ORDER = (Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT)

URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2}

# A reminder goes out when this share of the time limit is left (10 min → 2 min before).
REMINDER_SHARE = 0.2


def next_level(level: Level) -> Level | None:
    """The level a ticket escalates to from `level`; None at the top (district)."""
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting and what they are: per-grid roles, staff, duty levels."""

    telegram_id: int
    roles: PersonRoles
    duty_levels: frozenset[Level] = frozenset()


def may_handle(actor: Actor, ticket: Ticket) -> bool:
    """Heads and workers of the ticket's grid, staff, and duty staff of its current level."""
    return (
        actor.roles.is_staff
        or actor.roles.serves(ticket.grid_id)
        or (ticket.level is not Level.GRID and ticket.level in actor.duty_levels)
    )


# Once someone has claimed a ticket, finishing or handing it on is theirs (or a supervisor's).
CLAIMANT_ACTIONS = frozenset({Action.RESOLVE, Action.REJECT, Action.TRANSFER})


def supervises(actor: Actor, ticket: Ticket) -> bool:
    """Staff, the heads of the ticket's grid, duty staff of the level it is at."""
    return (
        actor.roles.is_staff
        or Role.HEAD in actor.roles.roles_in(ticket.grid_id)
        or (ticket.level is not Level.GRID and ticket.level in actor.duty_levels)
    )


def check(action: Action, ticket: Ticket, actor: Actor) -> str | None:
    """None if allowed; otherwise the error code that explains the refusal."""
    if not may_handle(actor, ticket):
        return "not_your_grid_ticket"
    allowed_from, _target = TRANSITIONS[action]
    if ticket.status not in allowed_from:
        return "wrong_state"
    if (
        action in CLAIMANT_ACTIONS
        and ticket.status is TicketStatus.CLAIMED
        and ticket.handler_id not in (None, actor.telegram_id)
        and not supervises(actor, ticket)
    ):
        return "claimed_by_other"
    if action is Action.ESCALATE and next_level(ticket.level) is None:
        return "top_level"
    return None


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Time limits to claim and to resolve, per urgency, optionally per category."""

    limits: dict[Urgency, tuple[timedelta, timedelta]] = field(
        default_factory=lambda: dict(DEFAULT_DEADLINES)
    )
    by_category: dict[str, tuple[timedelta, timedelta]] = field(default_factory=dict)
    verification_timeout: timedelta = timedelta(hours=48)

    def windows(self, urgency: Urgency, category: str) -> tuple[timedelta, timedelta]:
        """The (claim, resolve) time limits for a ticket of this urgency and category."""
        claim, resolve = self.limits[urgency]
        override = self.by_category.get(category)
        if override is None:
            return claim, resolve
        # A category's own limits apply, but never loosen an emergency's.
        if urgency is Urgency.EMERGENCY:
            return min(claim, override[0]), min(resolve, override[1])
        return override

    def deadlines(
        self, urgency: Urgency, category: str, start: datetime
    ) -> tuple[datetime, datetime]:
        """When a ticket filed at `start` must be claimed and resolved."""
        claim, resolve = self.windows(urgency, category)
        return start + claim, start + resolve

    def reminder_before(self, start: datetime, due: datetime) -> datetime:
        """When to remind before `due`: a share of the window before it, so short limits get early
        reminders.
        """
        return due - (due - start) * REMINDER_SHARE


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """Open and past a time limit now, or escalated because one passed (超时督办)."""
    if not ticket.is_open:
        return False
    if ticket.overdue_at is not None:
        return True
    if ticket.status in (TicketStatus.OPEN, TicketStatus.REOPENED) and ticket.claim_due_at:
        if ticket.status is TicketStatus.OPEN and now > ticket.claim_due_at:
            return True
    return bool(ticket.resolve_due_at and now > ticket.resolve_due_at)


def sort_for_work(tickets: list[Ticket]) -> list[Ticket]:
    """Most urgent first, then oldest first."""
    return sorted(tickets, key=lambda t: (URGENCY_RANK[t.urgency], t.created_at, t.id))
