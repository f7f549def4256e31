"""Tickets: what a resident's request becomes, and the rules that are pure logic.

States follow the street's closed loop (FixMyStreet-style groups): OPEN, CLAIMED and
REOPENED are "open"; RESOLVED waits for the resident's verification; CLOSED carries a
closure code, so "closed" never pretends to mean "fixed" unless the code says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.intake import Location
from bot.domain.models import Urgency


class TicketStatus(StrEnum):
    """Where a ticket is in the loop: open, claimed, resolved (awaiting the resident), reopened,
    closed.
    """

    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"


OPEN_STATES = frozenset({TicketStatus.OPEN, TicketStatus.CLAIMED, TicketStatus.REOPENED})


class Closure(StrEnum):
    """Why a ticket is closed. Only the first two mean the problem was fixed."""

    CONFIRMED = "confirmed"  # the resident said it is solved
    CONFIRMED_BY_TIMEOUT = "confirmed_by_timeout"  # no answer to the verification in time
    NOT_A_REQUEST = "not_a_request"  # [不是报事]: the bot misread chit-chat
    UNABLE = "unable"  # 无法解决
    NOT_OURS = "not_ours"  # 非本网格职责
    DUPLICATE = "duplicate"  # 重复
    REFERRED = "referred"  # 已转办
    INVALID = "invalid"  # 无效


class Source(StrEnum):
    """How a ticket came in: recognised in a group, /report, a private chat, or a head's patrol."""

    GROUP = "group"  # recognised in a grid chat
    COMMAND = "command"  # /report
    PRIVATE = "private"  # a private chat with the bot
    PATROL = "patrol"  # filed by a head on patrol


class Level(StrEnum):
    """Who is responsible for a ticket: the grid, then the duty chats up the line."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


# Default time limits (claim, resolve) per urgency; config may override them.
DEFAULT_DEADLINES: dict[Urgency, tuple[timedelta, timedelta]] = {
    Urgency.EMERGENCY: (timedelta(minutes=10), timedelta(hours=2)),
    Urgency.HIGH: (timedelta(hours=1), timedelta(hours=24)),
    Urgency.NORMAL: (timedelta(hours=24), timedelta(hours=72)),
}

DUPLICATE_WINDOW = timedelta(hours=24)
# Bigram overlap alone is weak for colloquial Chinese ("3栋电梯又坏了" vs "3栋的电梯坏了好几天了"
# share few bigrams), so the subject words the recogniser matched count first.
DUPLICATE_SIMILARITY = 0.3


class AnswerKind(StrEnum):
    """What a resident's message is owed in reply (recorded with the message's effect)."""

    ACK = "ack"  # a new ticket: its acknowledgement
    FOLLOWED = "followed"  # a "+1" on an open ticket
    RATE_LIMITED = "rate_limited"  # over the hourly cap: told once per window
    SILENT = "silent"  # over the cap and told before: nothing, deliberately


@dataclass(frozen=True, slots=True)
class MessageAnswer:
    """A resident's message and its answer: owed until `answered`."""

    chat_id: int
    message_id: int
    kind: AnswerKind
    ticket_id: int | None
    answered: bool


@dataclass(frozen=True, slots=True)
class Ticket:
    """A resident's problem being handled: what, where, how urgent,
    who has it, and its deadlines.
    """

    id: int
    grid_id: int
    reporter_id: int
    chat_id: int
    message_id: int | None
    text: str
    category: str
    urgency: Urgency
    location: Location
    status: TicketStatus
    source: Source
    private: bool
    created_at: datetime
    updated_at: datetime
    claim_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    handler_id: int | None = None
    level: Level = Level.GRID
    closure: Closure | None = None
    ack_message_id: int | None = None
    followers: int = 0
    reasons: tuple[str, ...] = field(default_factory=tuple)
    verification_due_at: datetime | None = None
    closure_note: str | None = None
    reopened: int = 0
    satisfaction: float | None = None
    overdue_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Whether someone still has to act on it (not closed)."""
        return self.status in OPEN_STATES


def _bigrams(text: str) -> set[str]:
    compact = "".join(ch for ch in text.lower() if ch.isalnum())
    return {compact[i : i + 2] for i in range(len(compact) - 1)} or {compact}


def similarity(a: str, b: str) -> float:
    """Character-bigram Jaccard: robust for Chinese, where words are not space-separated."""
    first, second = _bigrams(a), _bigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def subject_words(reasons: tuple[str, ...], category: str) -> set[str]:
    """The words that put a message in `category` (reasons read "电梯→property")."""
    suffix = f"→{category}"
    return {r[: -len(suffix)] for r in reasons if r.endswith(suffix)}


def is_probable_duplicate(
    candidate: Ticket,
    *,
    category: str,
    building: str | None,
    text: str,
    reasons: tuple[str, ...],
    now: datetime,
) -> bool:
    """Same grid is the caller's job; here: open, recent, same category and building, and
    the same subject (a shared subject word) or similar wording.
    """
    if not (
        candidate.is_open
        and candidate.category == category
        and candidate.location.building == building
        and now - candidate.created_at < DUPLICATE_WINDOW
    ):
        return False
    shared = subject_words(candidate.reasons, category) & subject_words(reasons, category)
    return bool(shared) or similarity(candidate.text, text) >= DUPLICATE_SIMILARITY


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket as intake files it, before storage gives it a number."""

    grid_id: int
    reporter_id: int
    chat_id: int
    message_id: int | None
    text: str
    category: str
    urgency: Urgency
    location: Location
    source: Source
    private: bool
    reasons: tuple[str, ...]
    confidence: float
    created_at: datetime
    claim_due_at: datetime
    resolve_due_at: datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    """A photo or a location added to a ticket (by its reporter or whoever handles it)."""

    kind: str
    file_id: str | None
    latitude: float | None
    longitude: float | None
    added_by: int


@dataclass(frozen=True, slots=True)
class TicketEventRecord:
    """One line of a ticket's timeline."""

    at: datetime
    actor_id: int | None
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    """A resident asked whether a ticket was solved, and what they answered."""

    round: int
    telegram_id: int
    solved: bool | None
    score: int | None
    asked_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class PatrolLog:
    """A head's or worker's note of a walk round their grid (/log)."""

    id: int
    grid_id: int
    author_id: int
    text: str
    at: datetime
    display_name: str | None
