"""The storage the services need, as Protocols: repositories that take and return domain
types, and the unit of work that holds them (cosmicpython, chapter 6).

Services open one `async with uow:` per use case and reach storage only through it: what
they read and write there commits together, or not at all when the use case raises.
Handlers, timer callbacks and the code that sends messages see services only.

bot.storage.unit_of_work is the SQLite adapter; another backend (PostgreSQL) implements the
same Protocols and passes the same storage tests. Long aggregate reads (figures, exports,
the console's lists) are read models (`StatsView`, `ConsoleView`), used outside any unit of
work so that they never hold the writer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.exports import Row
from bot.domain.intake import Location
from bot.domain.intake_eval import EvalRecord
from bot.domain.models import (
    Grid,
    GridOverview,
    Membership,
    PendingAction,
    Person,
    Role,
    Urgency,
)
from bot.domain.notices import Notice, NoticeStatus, RunReport, RunStatus, TargetGrid
from bot.domain.schedule import Schedule, Targets
from bot.domain.stats import Figures, Period
from bot.domain.ticket_views import Scope, TicketFilter
from bot.domain.tickets import (
    AnswerKind,
    Attachment,
    Closure,
    MessageAnswer,
    NewTicket,
    PatrolLog,
    Ticket,
    TicketEventRecord,
    TicketStatus,
    VerificationRecord,
)
from bot.domain.timers import NewTimer, Timer


class TicketRepo(Protocol):
    """Tickets and what hangs off them: messages, answers, followers, events,
    attachments, verifications, patrol logs.
    """

    async def get(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id, or None."""

    async def by_message(self, chat_id: int, message_id: int) -> tuple[Ticket, str] | None:
        """The ticket a message made, joined or acknowledged, and that message's role."""

    async def ticket_id_of_message(self, chat_id: int, message_id: int) -> int | None:
        """The ticket a message in a chat belongs to (report, join, acknowledgement or card)."""

    async def answer_of(self, chat_id: int, message_id: int) -> MessageAnswer | None:
        """What a resident's message was owed, and whether it went out (None: never handled)."""

    async def cards_of(self, ticket_id: int) -> list[tuple[int, int, str]]:
        """The bot's messages standing for a ticket (acknowledgement, cards): chat, id, role."""

    async def duty_staff(self, level: str) -> list[int]:
        """The people on duty at an escalation level, earliest assigned first."""

    async def open_in_grid_since(
        self, grid_id: int, category: str, since: datetime
    ) -> list[Ticket]:
        """A grid's open public tickets of a category filed since a moment: the candidates a new
        report may duplicate.
        """

    async def count_by_reporter_since(self, reporter_id: int, since: datetime) -> int:
        """How many tickets a person has filed since a moment (the per-person flood limit)."""

    async def of_person(self, telegram_id: int, limit: int = 20) -> list[Ticket]:
        """Tickets a person reported or follows, newest first."""

    async def is_follower(self, ticket_id: int, telegram_id: int) -> bool:
        """Whether the person follows the ticket (is told when it changes)."""

    async def attachments(self, ticket_id: int) -> list[Attachment]:
        """A ticket's photos and locations, in the order they were added."""

    async def grids_of_resident(self, telegram_id: int) -> list[int]:
        """The grids whose chats the person has written in, most recently seen first."""

    async def private_reporting_grid(self, telegram_id: int) -> int | None:
        """The grid a person's private reports go to, as last chosen (None: not chosen yet)."""

    async def create(self, new: NewTicket) -> Ticket:
        """The ticket as filed (from the INSERT itself), with its link and first event."""

    async def link_message(self, chat_id: int, message_id: int, ticket_id: int, role: str) -> bool:
        """Tie a message to a ticket in a role; False when it was already tied (a re-delivered
        update).
        """

    async def owe_answer(
        self,
        chat_id: int,
        message_id: int,
        kind: AnswerKind,
        ticket_id: int | None,
        now: datetime,
    ) -> None:
        """Record, with the message's effect, what it is owed (SILENT: owed nothing)."""

    async def mark_answered(
        self,
        chat_id: int,
        message_id: int,
        answer_message_id: int | None,
        now: datetime,
    ) -> None:
        """Record that a message's owed answer went out (and which message it was), so a re-delivery
        does not answer twice.
        """

    async def set_ack(self, ticket_id: int, chat_id: int, message_id: int) -> None:
        """Remember the bot's acknowledgement of a ticket and tie that message to it."""

    async def add_follower(self, ticket_id: int, telegram_id: int, now: datetime) -> bool:
        """Make the person a follower; False when they already follow (or reported) it."""

    async def update_content(
        self,
        ticket_id: int,
        *,
        text: str,
        category: str,
        urgency: Urgency,
        location: Location,
        reasons: tuple[str, ...],
        now: datetime,
        actor_id: int,
    ) -> bool:
        """An edited report rewrites its ticket, but only while nobody has taken it up."""

    async def transition(
        self,
        ticket: Ticket,
        *,
        from_states: frozenset[TicketStatus],
        to_status: TicketStatus | None,
        actor_id: int | None,
        now: datetime,
        kind: str,
        note: str | None = None,
        count_reopen: bool = False,
        **fields: object,
    ) -> Ticket | None:
        """One atomic conditional UPDATE of `ticket` as read in this unit of work: only from
        `from_states` and only if its status is still the one read; the ticket after, or None.
        """

    async def close(
        self,
        ticket: Ticket,
        *,
        closure: Closure,
        from_states: frozenset[TicketStatus],
        actor_id: int | None,
        now: datetime,
        note: str | None = None,
    ) -> Ticket | None:
        """`transition` to CLOSED with how it closed (resolved, withdrawn, duplicate, …) and the
        closing note.
        """

    async def mark_overdue(self, ticket_id: int, now: datetime, stage: str) -> None:
        """A time limit (stage "claim" or "resolve") passed: on record for good."""

    async def set_category(
        self, ticket_id: int, category: str, *, actor_id: int, now: datetime
    ) -> str | None:
        """Correct a ticket's category and record the change; the category it had before (None: no
        such ticket).
        """

    async def add_attachment(
        self,
        ticket_id: int,
        *,
        kind: str,
        added_by: int,
        now: datetime,
        file_id: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> None:
        """Add a photo or a location to a ticket and record who added it."""

    async def record_event(
        self,
        ticket_id: int,
        *,
        at: datetime,
        actor_id: int | None,
        kind: str,
        from_status: str | None = None,
        to_status: str | None = None,
        note: str | None = None,
    ) -> None:
        """Append a line to the ticket's history (what happened, who did it, from which status to
        which).
        """

    async def note_residents(self, seen: Iterable[tuple[int, int, datetime]]) -> None:
        """Note, for each (grid, person, when), that the person was seen writing in that grid's
        chat.
        """

    async def set_private_reporting_grid(
        self, telegram_id: int, grid_id: int, now: datetime
    ) -> None:
        """Remember the grid a person's private reports go to from now on."""

    async def open_in_grids(
        self,
        grid_ids: list[int] | None,
        *,
        category: str | None = None,
        status: TicketStatus | None = None,
        limit: int = 50,
    ) -> list[Ticket]:
        """Open tickets (all grids when grid_ids is None), most urgent then oldest first."""

    async def at_level(self, level: str, limit: int = 50) -> list[Ticket]:
        """Open tickets escalated to a level (street, district), oldest first: the duty
        chat's list.
        """

    async def followers(self, ticket_id: int) -> list[int]:
        """The people who follow a ticket, in the order they joined."""

    async def verification_round(self, ticket_id: int) -> int:
        """The latest round in which residents were asked whether a ticket is solved (0: never)."""

    async def is_asked(self, ticket_id: int, round_: int, telegram_id: int) -> bool:
        """Whether this person was asked to verify the ticket in this round: only they may
        answer.
        """

    async def ask_verification(
        self, ticket_id: int, round_: int, people: list[int], now: datetime
    ) -> None:
        """Ask these people, once each, to verify a resolved ticket in this round."""

    async def answer_verification(
        self,
        ticket_id: int,
        round_: int,
        telegram_id: int,
        *,
        solved: bool | None = None,
        score: int | None = None,
        now: datetime,
    ) -> None:
        """Record a person's verification answer: solved or not, and/or a satisfaction score."""

    async def set_duty(
        self, level: str, telegram_id: int, *, by: int, now: datetime, on: bool
    ) -> bool:
        """Put a person on or take them off duty at a level; False when nothing changed."""

    async def add_patrol_log(self, grid_id: int, author_id: int, text: str, now: datetime) -> int:
        """Keep a grid worker's patrol note; its id."""

    async def patrol_logs(self, grid_ids: list[int], limit: int = 10) -> list[PatrolLog]:
        """The latest patrol notes of these grids with their authors' names, newest first."""

    async def closed_between(self, grid_id: int, start: datetime, end: datetime) -> int:
        """How many of a grid's tickets were closed in [start, end) (the daily digest)."""


class GridRepo(Protocol):
    """Grids by id, code and chat, their tags and members."""

    async def by_id(self, grid_id: int) -> Grid | None:
        """The grid with this id, or None; cached until a grid changes."""

    async def by_code(self, code: str) -> Grid | None:
        """The grid with this code, or None."""

    async def by_chat(self, chat_id: int) -> Grid | None:
        """The grid bound to a chat, or None; cached until a grid changes (every group message
        asks).
        """

    async def all(self) -> list[Grid]:
        """Every grid with its tags, by code."""

    async def overview(self) -> list[GridOverview]:
        """Every grid with its heads and workers (/grids)."""

    async def members_of(self, grid_ids: list[int]) -> dict[int, list[Membership]]:
        """The members (person, role, who assigned them) of each of these grids."""

    async def roles_of(self, telegram_id: int) -> list[tuple[Grid, Role]]:
        """Every grid a person has a role in, with that role, by grid code."""

    async def duty_levels_of(self, telegram_id: int) -> list[str]:
        """The escalation levels at which a person is on duty."""

    async def role_in(self, grid_id: int, telegram_id: int) -> Role | None:
        """The person's role in a grid, or None when they have none."""

    async def create(
        self,
        *,
        code: str,
        name: str,
        chat_id: int,
        chat_title: str | None,
        now: datetime,
    ) -> int:
        """Bind a new active grid to a chat; its id."""

    async def update_binding(
        self,
        grid_id: int,
        *,
        code: str,
        name: str,
        chat_id: int | None,
        chat_title: str | None,
        active: bool,
        now: datetime,
    ) -> None:
        """Rewrite a grid's code, name, chat and active flag (rebinding, unbinding)."""

    async def set_active_by_chat(self, chat_id: int, active: bool, now: datetime) -> int:
        """Activate or deactivate the grid of a chat (the bot was added or removed); how many
        changed.
        """

    async def set_tags(self, grid_id: int, tags: Iterable[str]) -> None:
        """Replace a grid's tags (the names notices target it by)."""

    async def set_role(
        self,
        grid_id: int,
        telegram_id: int,
        role: Role,
        *,
        by: int | None,
        now: datetime,
    ) -> Role | None:
        """Give the person this role in the grid; return the role they had before."""

    async def remove_role(self, grid_id: int, telegram_id: int) -> Role | None:
        """Take away the person's role in the grid; the role they had, or None."""


class PeopleRepo(Protocol):
    """People the bot has seen."""

    async def get(self, telegram_id: int) -> Person | None:
        """The person with this Telegram id, or None if the bot has never seen them."""

    async def by_username(self, username: str) -> Person | None:
        """The person last seen with this @username, or None."""

    async def language_of(self, telegram_id: int) -> str | None:
        """The language Telegram reports for the person (picks the locale), or None."""

    async def upsert(
        self,
        *,
        telegram_id: int,
        display_name: str,
        username: str | None,
        language_code: str | None,
        now: datetime,
        private_chat: bool = False,
    ) -> None:
        """Record a person seen in an update, or refresh their name, username and language."""

    async def set_private_chat(self, telegram_id: int, reachable: bool) -> None:
        """Whether the bot can write to the person in private (they started it, or blocked it)."""


class ChatRepo(Protocol):
    """The chats the bot is in; a migrated group's new id."""

    async def upsert(
        self,
        *,
        chat_id: int,
        type_: str,
        title: str | None,
        bot_member: bool,
        now: datetime,
    ) -> None:
        """Record a chat the bot is in, or refresh its type, title and whether the bot is still a
        member.
        """

    async def move_chat_id(self, old_chat_id: int, new_chat_id: int) -> None:
        """Re-key every row from a migrated group to its supergroup, in the caller's transaction."""


class PendingActionRepo(Protocol):
    """Questions waiting for an answer (a move to confirm, a closing note)."""

    async def create(
        self,
        *,
        kind: str,
        chat_id: int,
        actor_id: int,
        payload: dict[str, Any],
        now: datetime,
        expires_at: datetime,
    ) -> int:
        """Keep a question waiting for the person's answer until `expires_at`; its id."""

    async def take_latest(
        self, kind: str, chat_id: int, actor_id: int, now: datetime
    ) -> PendingAction | None:
        """The person's newest live action of this kind in this chat, taken (once)."""

    async def take(self, action_id: int, now: datetime) -> PendingAction | None:
        """Mark the action done and return it, once: a second press finds nothing."""


class AuditRepo(Protocol):
    """Who changed which grid, binding or role."""

    async def record(
        self,
        *,
        at: datetime,
        actor_id: int | None,
        action: str,
        grid_id: int | None,
        **detail: Any,
    ) -> None:
        """Append who did what to which grid, with the details as JSON."""


class DutyChatRepo(Protocol):
    """Each escalation level's duty chat as set with /setduty."""

    async def all(self) -> dict[str, int]:
        """Read at most once per change (`Database.version`): every alert and card asks."""

    async def set(self, level: str, chat_id: int, by: int, now: datetime) -> None:
        """Make a chat the duty chat of an escalation level (replacing the previous one)."""


class TimerRepo(Protocol):
    """Durable timers: reminders, deadlines, notice runs, digests."""

    async def add(
        self,
        kind: str,
        ref_id: int,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Schedule once: the same (kind, ref, moment) twice is one timer."""

    async def add_many(self, timers: list[NewTimer]) -> None:
        """`add` for several (kind, ref, moment, payload) in one statement."""

    async def cancel(self, kind_prefix: str, ref_id: int, now: datetime) -> int:
        """Cancel the pending timers of a reference whose kind starts with `kind_prefix`;
        how many.
        """

    async def finish(self, timer_id: int, now: datetime, outcome: str) -> bool:
        """Mark done if still pending; False means someone else already handled it."""

    async def due(self, now: datetime, limit: int = 200) -> list[Timer]:
        """Pending timers due by now, earliest first, at most `limit`."""

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending timer is due (None: none pending): the loop sleeps
        until then.
        """

    async def pending(self, kind_prefix: str = "", ref_id: int | None = None) -> list[Timer]:
        """Timers not yet done, by kind prefix and optionally reference, earliest first."""


class NoticeRepo(Protocol):
    """Notices, their runs and one delivery per grid per run."""

    async def get(self, notice_id: int) -> Notice | None:
        """The notice with this id, or None."""

    async def listing(self, limit: int = 15) -> list[Notice]:
        """Scheduled and past notices, the live ones first, newest first."""

    async def create(
        self,
        *,
        author_id: int,
        text: str,
        schedule: Schedule,
        targets: Targets,
        pin: bool,
        locale: str,
        now: datetime,
    ) -> int:
        """Save a new notice as a draft; its id."""

    async def change_status(
        self,
        notice_id: int,
        to: NoticeStatus,
        *,
        from_: Iterable[NoticeStatus],
        next_run_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Move to `to` only from one of `from_`; False if someone got there first."""

    async def set_next_run(
        self, notice_id: int, next_run_at: datetime | None, now: datetime
    ) -> None:
        """When the notice next goes out (None: it does not)."""

    async def grids_by_code(self, codes: Iterable[str]) -> list[tuple[str, int | None, bool]]:
        """(code, chat_id, active) of the grids with these codes (case-insensitive)."""

    async def target_grid_ids(self, targets: Targets) -> list[int]:
        """The grids a notice reaches now: active, in a chat, and named by the targets."""

    async def target_grids(self, grid_ids: list[int]) -> list[TargetGrid]:
        """Grids with their tags, heads and open-ticket counts, in the order given."""

    async def create_run(
        self, notice_id: int, due_at: datetime, status: RunStatus, now: datetime
    ) -> int | None:
        """A run for this moment, once: None if the notice already has one for it."""

    async def add_deliveries(self, run_id: int, grid_ids: Iterable[int]) -> None:
        """One pending delivery per grid for a run; a grid already in the run is not added twice."""

    async def unfinished_runs(self) -> list[int]:
        """Runs still sending: resumed after a restart."""

    async def run_notice(self, run_id: int) -> tuple[Notice, int | None] | None:
        """The notice a run belongs to, and the run's progress message (if any)."""

    async def pending_grid_ids(self, run_id: int) -> list[int]:
        """The grids of a run still waiting for their delivery, by grid code."""

    async def is_pending(self, run_id: int, grid_id: int) -> bool:
        """Whether a run's delivery to a grid has still to go out."""

    async def mark_sent(
        self,
        run_id: int,
        grid_id: int,
        *,
        chat_id: int,
        message_id: int,
        now: datetime,
    ) -> None:
        """A delivery went out as this message; recorded whatever happened meanwhile (a cancel)."""

    async def mark_pinned(self, run_id: int, grid_id: int, refused: str | None) -> None:
        """A sent delivery's pin: done, or the reason Telegram refused (kept in `reason`)."""

    async def mark_failed(self, run_id: int, grid_id: int, reason: str, now: datetime) -> bool:
        """A pending delivery failed for `reason`; False when it was no longer pending."""

    async def is_sending(self, notice_id: int) -> bool:
        """Whether a run of the notice is sending now."""

    async def fail_pending(self, notice_id: int, reason: str, now: datetime) -> int:
        """Every delivery of the notice not sent yet fails (the notice was cancelled)."""

    async def finish_run(self, run_id: int, now: datetime) -> bool:
        """Sending → done once nothing is pending; True only for the caller that did it."""

    async def set_progress_message(self, run_id: int, message_id: int) -> None:
        """Remember the message that shows the run's progress to its author."""

    async def report(self, run_id: int) -> RunReport | None:
        """A run's outcome: sent, pinned and failed deliveries (None: no such run)."""

    async def reports_of(self, notice_id: int, limit: int) -> list[RunReport]:
        """The notice's latest runs, newest first."""


class IntakeExampleRepo(Protocol):
    """Labelled examples left by corrections and withdrawals."""

    async def record(
        self,
        ticket_id: int,
        text: str,
        *,
        category: str | None,
        actor_id: int,
        now: datetime,
    ) -> None:
        """Keep ``text`` as a request of ``category``, or as no request when it is ``None``."""

    async def all(self) -> list[EvalRecord]:
        """Every example, oldest first; urgency and location were never corrected: unknown."""


class ConsoleRepo(Protocol):
    """The staff console: login links, a ticket's history (quick, in a unit of work)."""

    async def add_login(
        self, secret_hash: str, telegram_id: int, now: datetime, expires_at: datetime
    ) -> None:
        """Keep a console login link's hash until it expires (and drop expired ones)."""

    async def use_login(self, secret_hash: str, now: datetime) -> int | None:
        """The person a link logs in, once: a second use or a late one finds nothing."""

    async def events(self, ticket_id: int) -> list[TicketEventRecord]:
        """A ticket's timeline, newest first."""

    async def verifications(self, ticket_id: int) -> list[VerificationRecord]:
        """Who was asked to verify a ticket and what they answered, latest round first."""


class ConsoleView(Protocol):
    """The console's ticket list and figures: long reads, outside any unit of work."""

    async def tickets(
        self, scope: Scope, wanted: TicketFilter, now: datetime, *, offset: int, limit: int
    ) -> tuple[list[Ticket], int]:
        """A page of tickets, the most recently changed first, and how many match in all."""

    async def open_by_grid(self, scope: Scope, now: datetime) -> dict[int, tuple[int, int]]:
        """Per grid: (open tickets, of which overdue now)."""

    async def change_mark(self) -> tuple[int, int]:
        """Moves whenever a ticket is filed or changes (every change records an event)."""


class StatsView(Protocol):
    """Aggregates and export rows: long reads on their own thread, outside any
    unit of work (a read model).
    """

    async def figures(
        self, period: Period, grid_ids: list[int] | None, now: datetime
    ) -> tuple[dict[int, Figures], dict[int, tuple[list[float], list[float]]]]:
        """Per-grid figures, and per-grid claim/resolve durations for medians."""

    async def daily_by_category(
        self, period: Period, grid_ids: list[int] | None, tz: ZoneInfo
    ) -> dict[str, dict[str, int]]:
        """Tickets received per local day and category (for the weekly chart)."""

    def export_rows(
        self, start: datetime, end: datetime, grid_ids: list[int] | None
    ) -> AsyncGenerator[Row, None]:
        """Every ticket filed in [start, end), with its grid, oldest first, streamed."""


class UnitOfWork(Protocol):
    """`async with uow:` — one use case's reads and writes, committed together on a clean
    exit and rolled back when the use case raises. Opened again inside itself (a use case
    calling another), it joins the open one.
    """

    @property
    def tickets(self) -> TicketRepo:
        """The tickets, in this unit of work."""

    @property
    def grids(self) -> GridRepo:
        """The grids and their members, in this unit of work."""

    @property
    def people(self) -> PeopleRepo:
        """The people the bot has seen, in this unit of work."""

    @property
    def chats(self) -> ChatRepo:
        """The chats the bot is in, in this unit of work."""

    @property
    def pending(self) -> PendingActionRepo:
        """Questions waiting for an answer, in this unit of work."""

    @property
    def audit(self) -> AuditRepo:
        """The audit log, in this unit of work."""

    @property
    def duty_chats(self) -> DutyChatRepo:
        """The duty chats of the escalation levels, in this unit of work."""

    @property
    def timers(self) -> TimerRepo:
        """The durable timers, in this unit of work."""

    @property
    def notices(self) -> NoticeRepo:
        """Notices, runs and deliveries, in this unit of work."""

    @property
    def intake_examples(self) -> IntakeExampleRepo:
        """Labelled intake examples, in this unit of work."""

    @property
    def console(self) -> ConsoleRepo:
        """Console logins and ticket histories, in this unit of work."""

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class InboxStore(Protocol):
    """Fetched updates, stored before Telegram is told they arrived (bot.inbox)."""

    async def store(self, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]:
        """Store (update id, JSON) pairs; the ids that were stored before (re-delivered)."""

    async def unhandled(self) -> list[str]:
        """The JSON of every stored update not yet handled, oldest first."""

    async def mark_handled(self, update_ids: Iterable[int], *, forget_before: datetime) -> None:
        """Mark updates handled, and forget handled ones received before `forget_before`."""


class Storage(Protocol):
    """One backend: units of work, the read models, the inbox; closed at exit."""

    @property
    def inbox(self) -> InboxStore:
        """The inbox of fetched updates."""

    @property
    def stats(self) -> StatsView:
        """The statistics read model."""

    @property
    def console(self) -> ConsoleView:
        """The console's read model."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work: `async with storage.unit_of_work() as uow:`."""

    async def close(self) -> None:
        """Close the backend at exit; nothing may use it after."""
