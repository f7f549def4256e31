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
    attachments, verifications, patrol logs."""

    async def get(self, ticket_id: int) -> Ticket | None: ...

    async def by_message(self, chat_id: int, message_id: int) -> tuple[Ticket, str] | None: ...

    async def ticket_id_of_message(self, chat_id: int, message_id: int) -> int | None: ...

    async def answer_of(self, chat_id: int, message_id: int) -> MessageAnswer | None: ...

    async def cards_of(self, ticket_id: int) -> list[tuple[int, int, str]]: ...

    async def duty_staff(self, level: str) -> list[int]: ...

    async def open_in_grid_since(
        self, grid_id: int, category: str, since: datetime
    ) -> list[Ticket]: ...

    async def count_by_reporter_since(self, reporter_id: int, since: datetime) -> int: ...

    async def of_person(self, telegram_id: int, limit: int = 20) -> list[Ticket]: ...

    async def is_follower(self, ticket_id: int, telegram_id: int) -> bool: ...

    async def attachments(self, ticket_id: int) -> list[Attachment]: ...

    async def grids_of_resident(self, telegram_id: int) -> list[int]: ...

    async def private_reporting_grid(self, telegram_id: int) -> int | None: ...

    async def create(self, new: NewTicket) -> Ticket: ...

    async def link_message(
        self, chat_id: int, message_id: int, ticket_id: int, role: str
    ) -> bool: ...

    async def owe_answer(
        self, chat_id: int, message_id: int, kind: AnswerKind,
        ticket_id: int | None, now: datetime,
    ) -> None: ...

    async def mark_answered(
        self, chat_id: int, message_id: int, answer_message_id: int | None,
        now: datetime,
    ) -> None: ...

    async def set_ack(self, ticket_id: int, chat_id: int, message_id: int) -> None: ...

    async def add_follower(
        self, ticket_id: int, telegram_id: int, now: datetime
    ) -> bool: ...

    async def update_content(
        self, ticket_id: int, *, text: str, category: str, urgency: Urgency,
        location: Location, reasons: tuple[str, ...], now: datetime, actor_id: int,
    ) -> bool: ...

    async def transition(
        self, ticket: Ticket, *, from_states: frozenset[TicketStatus],
        to_status: TicketStatus | None, actor_id: int | None, now: datetime, kind: str,
        note: str | None = None, count_reopen: bool = False, **fields: object,
    ) -> Ticket | None: ...

    async def close(
        self, ticket: Ticket, *, closure: Closure, from_states: frozenset[TicketStatus],
        actor_id: int | None, now: datetime, note: str | None = None,
    ) -> Ticket | None: ...

    async def mark_overdue(self, ticket_id: int, now: datetime, stage: str) -> None: ...

    async def set_category(
        self, ticket_id: int, category: str, *, actor_id: int, now: datetime
    ) -> str | None: ...

    async def add_attachment(
        self, ticket_id: int, *, kind: str, added_by: int, now: datetime,
        file_id: str | None = None, latitude: float | None = None, longitude: float | None = None,
    ) -> None: ...

    async def record_event(
        self, ticket_id: int, *, at: datetime, actor_id: int | None, kind: str,
        from_status: str | None = None, to_status: str | None = None, note: str | None = None,
    ) -> None: ...

    async def note_residents(self, seen: Iterable[tuple[int, int, datetime]]) -> None: ...

    async def set_private_reporting_grid(
        self, telegram_id: int, grid_id: int, now: datetime
    ) -> None: ...

    async def open_in_grids(
        self, grid_ids: list[int] | None, *, category: str | None = None,
        status: TicketStatus | None = None, limit: int = 50,
    ) -> list[Ticket]: ...

    async def at_level(self, level: str, limit: int = 50) -> list[Ticket]: ...

    async def followers(self, ticket_id: int) -> list[int]: ...

    async def verification_round(self, ticket_id: int) -> int: ...

    async def is_asked(self, ticket_id: int, round_: int, telegram_id: int) -> bool: ...

    async def ask_verification(
        self, ticket_id: int, round_: int, people: list[int], now: datetime
    ) -> None: ...

    async def answer_verification(
        self, ticket_id: int, round_: int, telegram_id: int, *,
        solved: bool | None = None, score: int | None = None, now: datetime,
    ) -> None: ...

    async def set_duty(
        self, level: str, telegram_id: int, *, by: int, now: datetime, on: bool
    ) -> bool: ...

    async def add_patrol_log(
        self, grid_id: int, author_id: int, text: str, now: datetime
    ) -> int: ...

    async def patrol_logs(self, grid_ids: list[int], limit: int = 10) -> list[PatrolLog]: ...

    async def closed_between(self, grid_id: int, start: datetime, end: datetime) -> int: ...


class GridRepo(Protocol):
    """Grids by id, code and chat, their tags and members."""

    async def by_id(self, grid_id: int) -> Grid | None: ...

    async def by_code(self, code: str) -> Grid | None: ...

    async def by_chat(self, chat_id: int) -> Grid | None: ...

    async def all(self) -> list[Grid]: ...

    async def overview(self) -> list[GridOverview]: ...

    async def members_of(self, grid_ids: list[int]) -> dict[int, list[Membership]]: ...

    async def roles_of(self, telegram_id: int) -> list[tuple[Grid, Role]]: ...

    async def duty_levels_of(self, telegram_id: int) -> list[str]: ...

    async def role_in(self, grid_id: int, telegram_id: int) -> Role | None: ...

    async def create(
        self, *, code: str, name: str, chat_id: int, chat_title: str | None,
        now: datetime,
    ) -> int: ...

    async def update_binding(
        self, grid_id: int, *, code: str, name: str, chat_id: int | None,
        chat_title: str | None, active: bool, now: datetime,
    ) -> None: ...

    async def set_active_by_chat(
        self, chat_id: int, active: bool, now: datetime
    ) -> int: ...

    async def set_tags(self, grid_id: int, tags: Iterable[str]) -> None: ...

    async def set_role(
        self, grid_id: int, telegram_id: int, role: Role, *, by: int | None,
        now: datetime,
    ) -> Role | None: ...

    async def remove_role(self, grid_id: int, telegram_id: int) -> Role | None: ...


class PeopleRepo(Protocol):
    """People the bot has seen."""

    async def get(self, telegram_id: int) -> Person | None: ...

    async def by_username(self, username: str) -> Person | None: ...

    async def language_of(self, telegram_id: int) -> str | None: ...

    async def upsert(
        self, *, telegram_id: int, display_name: str, username: str | None,
        language_code: str | None, now: datetime, private_chat: bool = False,
    ) -> None: ...

    async def set_private_chat(self, telegram_id: int, reachable: bool) -> None: ...


class ChatRepo(Protocol):
    """The chats the bot is in; a migrated group's new id."""

    async def upsert(
        self, *, chat_id: int, type_: str, title: str | None, bot_member: bool,
        now: datetime,
    ) -> None: ...

    async def move_chat_id(self, old_chat_id: int, new_chat_id: int) -> None: ...


class PendingActionRepo(Protocol):
    """Questions waiting for an answer (a move to confirm, a closing note)."""

    async def create(
        self, *, kind: str, chat_id: int, actor_id: int, payload: dict[str, Any],
        now: datetime, expires_at: datetime,
    ) -> int: ...

    async def take_latest(
        self, kind: str, chat_id: int, actor_id: int, now: datetime
    ) -> PendingAction | None: ...

    async def take(self, action_id: int, now: datetime) -> PendingAction | None: ...


class AuditRepo(Protocol):
    """Who changed which grid, binding or role."""

    async def record(
        self, *, at: datetime, actor_id: int | None, action: str,
        grid_id: int | None, **detail: Any,
    ) -> None: ...


class DutyChatRepo(Protocol):
    """Each escalation level's duty chat as set with /setduty."""

    async def all(self) -> dict[str, int]: ...

    async def set(self, level: str, chat_id: int, by: int, now: datetime) -> None: ...


class TimerRepo(Protocol):
    """Durable timers: reminders, deadlines, notice runs, digests."""

    async def add(
        self, kind: str, ref_id: int, due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> bool: ...

    async def add_many(
        self, timers: list[NewTimer]
    ) -> None: ...

    async def cancel(self, kind_prefix: str, ref_id: int, now: datetime) -> int: ...

    async def finish(self, timer_id: int, now: datetime, outcome: str) -> bool: ...

    async def due(self, now: datetime, limit: int = 200) -> list[Timer]: ...

    async def next_due_at(self) -> datetime | None: ...

    async def pending(self, kind_prefix: str = "", ref_id: int | None = None) -> list[Timer]: ...


class NoticeRepo(Protocol):
    """Notices, their runs and one delivery per grid per run."""

    async def get(self, notice_id: int) -> Notice | None: ...

    async def listing(self, limit: int = 15) -> list[Notice]: ...

    async def create(
        self, *, author_id: int, text: str, schedule: Schedule, targets: Targets,
        pin: bool, locale: str, now: datetime,
    ) -> int: ...

    async def change_status(
        self, notice_id: int, to: NoticeStatus, *, from_: Iterable[NoticeStatus],
        next_run_at: datetime | None, now: datetime,
    ) -> bool: ...

    async def set_next_run(
        self, notice_id: int, next_run_at: datetime | None, now: datetime
    ) -> None: ...

    async def grids_by_code(self, codes: Iterable[str]) -> list[tuple[str, int | None, bool]]: ...

    async def target_grid_ids(self, targets: Targets) -> list[int]: ...

    async def target_grids(self, grid_ids: list[int]) -> list[TargetGrid]: ...

    async def create_run(
        self, notice_id: int, due_at: datetime, status: RunStatus, now: datetime
    ) -> int | None: ...

    async def add_deliveries(self, run_id: int, grid_ids: Iterable[int]) -> None: ...

    async def unfinished_runs(self) -> list[int]: ...

    async def run_notice(self, run_id: int) -> tuple[Notice, int | None] | None: ...

    async def pending_grid_ids(self, run_id: int) -> list[int]: ...

    async def is_pending(self, run_id: int, grid_id: int) -> bool: ...

    async def mark_sent(
        self, run_id: int, grid_id: int, *, chat_id: int, message_id: int,
        now: datetime,
    ) -> None: ...

    async def mark_pinned(
        self, run_id: int, grid_id: int, refused: str | None
    ) -> None: ...

    async def mark_failed(
        self, run_id: int, grid_id: int, reason: str, now: datetime
    ) -> bool: ...

    async def is_sending(self, notice_id: int) -> bool: ...

    async def fail_pending(self, notice_id: int, reason: str, now: datetime) -> int: ...

    async def finish_run(self, run_id: int, now: datetime) -> bool: ...

    async def set_progress_message(self, run_id: int, message_id: int) -> None: ...

    async def report(self, run_id: int) -> RunReport | None: ...

    async def reports_of(self, notice_id: int, limit: int) -> list[RunReport]: ...


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
    ) -> None: ...

    async def all(self) -> list[EvalRecord]: ...


class ConsoleRepo(Protocol):
    """The staff console: login links, a ticket's history (quick, in a unit of work)."""

    async def add_login(self, secret_hash: str, telegram_id: int, now: datetime,
                        expires_at: datetime) -> None: ...

    async def use_login(self, secret_hash: str, now: datetime) -> int | None: ...

    async def events(self, ticket_id: int) -> list[TicketEventRecord]: ...

    async def verifications(self, ticket_id: int) -> list[VerificationRecord]: ...


class ConsoleView(Protocol):
    """The console's ticket list and figures: long reads, outside any unit of work."""

    async def tickets(self, scope: Scope, wanted: TicketFilter, now: datetime, *,
                      offset: int, limit: int) -> tuple[list[Ticket], int]: ...

    async def open_by_grid(self, scope: Scope, now: datetime) -> dict[int, tuple[int, int]]: ...

    async def change_mark(self) -> tuple[int, int]: ...


class StatsView(Protocol):
    """Aggregates and export rows: long reads on their own thread, outside any
    unit of work (a read model)."""

    async def figures(
        self, period: Period, grid_ids: list[int] | None, now: datetime
    ) -> tuple[dict[int, Figures], dict[int, tuple[list[float], list[float]]]]: ...

    async def daily_by_category(
        self, period: Period, grid_ids: list[int] | None, tz: ZoneInfo
    ) -> dict[str, dict[str, int]]: ...

    def export_rows(
        self, start: datetime, end: datetime, grid_ids: list[int] | None
    ) -> AsyncGenerator[Row, None]: ...


class UnitOfWork(Protocol):
    """`async with uow:` — one use case's reads and writes, committed together on a clean
    exit and rolled back when the use case raises. Opened again inside itself (a use case
    calling another), it joins the open one."""

    @property
    def tickets(self) -> TicketRepo: ...

    @property
    def grids(self) -> GridRepo: ...

    @property
    def people(self) -> PeopleRepo: ...

    @property
    def chats(self) -> ChatRepo: ...

    @property
    def pending(self) -> PendingActionRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def duty_chats(self) -> DutyChatRepo: ...

    @property
    def timers(self) -> TimerRepo: ...

    @property
    def notices(self) -> NoticeRepo: ...

    @property
    def intake_examples(self) -> IntakeExampleRepo: ...

    @property
    def console(self) -> ConsoleRepo: ...


    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class InboxStore(Protocol):
    """Fetched updates, stored before Telegram is told they arrived (bot.inbox)."""

    async def store(self, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]: ...

    async def unhandled(self) -> list[str]: ...

    async def mark_handled(self, update_ids: Iterable[int], *,
                           forget_before: datetime) -> None: ...


class Storage(Protocol):
    """One backend: units of work, the read models, the inbox; closed at exit."""

    @property
    def inbox(self) -> InboxStore: ...

    @property
    def stats(self) -> StatsView: ...

    @property
    def console(self) -> ConsoleView: ...


    def unit_of_work(self) -> UnitOfWork: ...

    async def close(self) -> None: ...
